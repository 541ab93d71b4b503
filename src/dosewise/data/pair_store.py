"""Turn folders of image pairs into a dataset store the restoration spine trains on.

Paired (Katsuno et al. 2022): low-dose frames and high-dose images of the same fields. Noise2Noise:
two independent low-dose exposures of each field, no clean image at all. Either way
the second image of a pair is resampled onto the first one's grid, drift-corrected and
intensity-rescaled (:func:`dosewise.data.pairs.align_pair`) once, here, and stored as
``noisy`` (input) and ``clean`` (target) with the alignment in the metadata, so training
reads ready pairs and anyone can inspect what the alignment did.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dosewise.data.datasets import match_files
from dosewise.data.pairs import align_pair
from dosewise.errors import InputFileError, InvalidImageError
from dosewise.io import DatasetStore, read_image


def _single_frame(path: Path) -> np.ndarray:
    data = read_image(path).data
    if data.ndim != 2:
        raise InvalidImageError(f"expected one 2-D image, got shape {data.shape}", path)
    return data


def build_pair_store(
    first_dir: str | Path,
    second_dir: str | Path,
    out: str | Path,
    *,
    kind: str = "paired",
) -> DatasetStore:
    """Match ``first_dir`` / ``second_dir`` files by name, align each pair, write ``out``.

    ``kind`` is "paired" (second = high dose) or "noise2noise" (second = another
    low-dose exposure). Pairs already in the store are kept (the step resumes).
    """
    pairs = match_files(first_dir, second_dir, "low-dose" if kind == "paired" else "first-exposure",
                        "high-dose" if kind == "paired" else "second-exposure")
    store = DatasetStore.create(out, attrs={"kind": f"pairs-{kind}", "first_dir": str(first_dir),
                                            "second_dir": str(second_dir)})
    for key, first_path, second_path in pairs:
        if store.has(key):
            continue
        first, second = _single_frame(first_path), _single_frame(second_path)
        try:
            pair = align_pair(first, second, both_noisy=kind == "noise2noise")
        except InvalidImageError as exc:
            raise InvalidImageError(f"{exc} (pair {first_path.name} / {second_path.name})", second_path) from exc
        store.write_sample(key, {"noisy": pair.low, "clean": pair.high, "valid": pair.valid}, {
            "first": str(first_path), "second": str(second_path), "kind": kind,
            "shift_px": list(pair.shift_px), "intensity_scale": pair.scale, "intensity_offset": pair.offset,
        })
    return store


def check_same_shapes(store: DatasetStore, ids: Sequence[str]) -> None:
    """Whole-frame training (no crops, Katsuno et al. 2022) needs one frame size per batch."""
    shapes = {store.sample(i).array("noisy").shape for i in ids}
    if len(shapes) > 1:
        raise InputFileError(
            f"pairs have different sizes {sorted(shapes)}; give a crop size to train on them together",
            store.path,
        )
