"""The napari plugin's sample data: one simulated low-dose HRTEM frame of Au on CeO2 (Larsen et
al. 2023's model, dosewise's own simulator), with its clean image, mask and pixel size, written to
``src/dosewise/napari/sample_hrtem.npz``. Needs the [sim] extra; run once when the simulator changes.

    .venv/bin/python scripts/make_napari_sample.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from dosewise.config import HrtemDatasetConfig
from dosewise.io import DatasetStore
from dosewise.simulate import simulate_hrtem_dataset

OUT = Path(__file__).resolve().parents[1] / "src" / "dosewise" / "napari" / "sample_hrtem.npz"
DOSE_E_PER_A2 = 300.0


def main() -> None:
    config = HrtemDatasetConfig(n_structures=1, variants_per_structure=1, size_px=256, pixel_size_A=0.25,
                                dose_range_e_per_A2=(DOSE_E_PER_A2, DOSE_E_PER_A2), seed=7)
    with tempfile.TemporaryDirectory() as folder:
        store_path = Path(folder) / "sample.zarr"
        simulate_hrtem_dataset(store_path, config, progress=False)
        store = DatasetStore.open(store_path)
        sample = store.sample(store.ids()[0])
        np.savez_compressed(OUT, noisy=sample.array("noisy").astype(np.float32),
                            clean=sample.array("clean").astype(np.float32), mask=sample.array("mask").astype(np.uint8),
                            pixel_size_A=np.float64(sample.metadata["pixel_size_A"]),
                            dose_e_per_A2=np.float64(sample.metadata["dose_e_per_A2"]))
    print(OUT, OUT.stat().st_size // 1024, "KiB")


if __name__ == "__main__":
    main()
