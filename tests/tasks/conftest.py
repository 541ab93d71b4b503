"""A tiny synthetic segmentation store: dark discs on a bright, shot-noisy background."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dosewise.io import DatasetStore
from dosewise.models import ModelConfig
from dosewise.config import DataConfig, OptimiserConfig, TrainConfig

SIZE = 40
DOSE_E_PER_PX = 30.0


def disc_sample(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Clean image (vacuum 1, discs at 0.55) and its mask, 1-2 discs of radius 5-9 px."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    mask = np.zeros((SIZE, SIZE), bool)
    for _ in range(int(rng.integers(1, 3))):
        r = rng.uniform(5, 9)
        cy, cx = rng.uniform(r, SIZE - r, size=2)
        mask |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
    clean = np.where(mask, 0.55, 1.0).astype(np.float32)
    return clean, mask


def write_disc_store(
    path: Path, n_structures: int = 12, n_variants: int = 2, seed: int = 0
) -> Path:
    rng = np.random.default_rng(seed)
    store = DatasetStore.create(path)
    for s in range(n_structures):
        clean, mask = disc_sample(rng)
        for v in range(n_variants):
            noisy = rng.poisson(DOSE_E_PER_PX * clean).astype(np.float32)
            store.write_sample(
                f"s{s:06d}_v{v:03d}",
                {"clean": clean, "noisy": noisy, "mask": mask.astype(np.uint8)},
                {"dose_e_per_px": DOSE_E_PER_PX, "pixel_size_A": 0.1},
            )
    return path


@pytest.fixture(scope="session")
def disc_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_disc_store(tmp_path_factory.mktemp("discs") / "discs.zarr")


def tiny_config(store: Path, out_dir: Path, **overrides) -> TrainConfig:
    """A seconds-long CPU recipe: 4-layer MSD-net, 32 px crops, lr 1e-2."""
    fields = {
        "task": "segment",
        "model": ModelConfig(name="msdnet", options={"depth": 4, "max_dilation": 4}),
        "data": DataConfig(store=store, crop_px=32, val_fraction=0.25),
        "optimiser": OptimiserConfig(lr=1e-2),
        "epochs": 4,
        "batch_size": 4,
        "checkpoint_every_n_epochs": 2,
        "out_dir": out_dir,
        "seed": 7,
    }
    fields.update(overrides)
    return TrainConfig(**fields)
