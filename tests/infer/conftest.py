"""A tiny trained restoration checkpoint (noisy -> clean discs, 4-layer MSD-net) and images."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from dosewise.io import DatasetStore
from dosewise.models import ModelConfig
from dosewise.config import DataConfig, OptimiserConfig, TrainConfig
from dosewise.training import train

SIZE = 40
DOSE_E_PER_PX = 20.0


def noisy_discs(rng: np.random.Generator, shape: tuple[int, int] = (SIZE, SIZE)) -> tuple[np.ndarray, np.ndarray]:
    """Clean image (vacuum 1, discs at 0.55) and a shot-noisy copy in counts."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    clean = np.ones(shape, np.float32)
    for _ in range(int(rng.integers(1, 4))):
        r = rng.uniform(4, 8)
        cy, cx = rng.uniform(r, shape[0] - r), rng.uniform(r, shape[1] - r)
        clean[(yy - cy) ** 2 + (xx - cx) ** 2 <= r**2] = 0.55
    noisy = rng.poisson(DOSE_E_PER_PX * clean).astype(np.float32)
    return clean, noisy


def disc_frames(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    """Noisy disc frames in counts, ``(H, W)`` or ``(N, H, W)``."""
    rng = np.random.default_rng(seed)
    n = shape[0] if len(shape) == 3 else 1
    stack = np.stack([noisy_discs(rng, shape[-2:])[1] for _ in range(n)])
    return stack if len(shape) == 3 else stack[0]


@pytest.fixture()
def make_frames():
    """``make_frames(shape, seed=1)``: noisy disc frames in counts."""
    return disc_frames


@pytest.fixture(scope="session")
def restore_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A restoration checkpoint trained for 6 quick epochs (seconds on a CPU)."""
    root = tmp_path_factory.mktemp("restore")
    rng = np.random.default_rng(0)
    store = DatasetStore.create(root / "pairs.zarr")
    for index in range(8):
        clean, noisy = noisy_discs(rng)
        store.write_sample(f"s{index:06d}_v000", {"clean": clean, "noisy": noisy},
                           {"dose_e_per_px": DOSE_E_PER_PX})
    config = TrainConfig(
        task="restore",
        model=ModelConfig(name="msdnet", options={"depth": 4, "max_dilation": 4}),
        data=DataConfig(store=store.path, input="noisy", target="clean", crop_px=32, val_fraction=0.25),
        optimiser=OptimiserConfig(lr=2e-2),
        epochs=6,
        batch_size=3,
        checkpoint_every_n_epochs=1,
        out_dir=root / "run",
        device="cpu",
        seed=3,
    )
    result = train(config, progress=False)
    # A private copy: tests write the ONNX cache beside it.
    path = root / "denoiser.ckpt"
    shutil.copy(result.last_checkpoint, path)
    return path


@pytest.fixture()
def checkpoint_copy(restore_checkpoint: Path, tmp_path: Path) -> Path:
    """The checkpoint in a test's own folder, so ONNX caches do not leak between tests."""
    path = tmp_path / "model" / "denoiser.ckpt"
    path.parent.mkdir()
    shutil.copy(restore_checkpoint, path)
    return path
