"""A tiny segmentation store for CLI tests: noisy dark discs and their masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dosewise.io import DatasetStore


@pytest.fixture()
def disc_store_cli(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    size = 40
    store = DatasetStore.create(tmp_path / "discs.zarr")
    yy, xx = np.mgrid[:size, :size]
    for index in range(12):
        cy, cx = rng.uniform(10, size - 10, size=2)
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= rng.uniform(5, 9) ** 2
        noisy = rng.poisson(30.0 * np.where(mask, 0.55, 1.0)).astype(np.float32)
        store.write_sample(f"s{index:06d}_v000", {"noisy": noisy, "mask": mask.astype(np.uint8)}, {})
    return store.path
