"""The plugin's sample data: a simulated low-dose HRTEM frame made by ``scripts/make_napari_sample.py``."""

from __future__ import annotations

from importlib import resources

import numpy as np

from dosewise.units import A_to_nm


def sample_hrtem() -> list[tuple[np.ndarray, dict, str]]:
    """The noisy frame, its clean image and the true particle mask, scaled in nm."""
    with resources.files("dosewise.napari").joinpath("sample_hrtem.npz").open("rb") as file:
        sample = np.load(file)
        scale = (A_to_nm(float(sample["pixel_size_A"])),) * 2
        dose = float(sample["dose_e_per_A2"])
        return [
            (sample["clean"], {"name": "clean (simulated)", "scale": scale, "visible": False}, "image"),
            (sample["mask"].astype(np.int32), {"name": "true particle", "scale": scale, "visible": False}, "labels"),
            (sample["noisy"], {"name": f"HRTEM {dose:g} e-/Å² (simulated)", "scale": scale,
                               "metadata": {"pixel_size_A": float(sample["pixel_size_A"]), "dose_e_per_A2": dose}},
             "image"),
        ]
