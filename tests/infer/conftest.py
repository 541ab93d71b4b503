"""A tiny trained restoration checkpoint (noisy -> clean discs, 4-layer MSD-net) and a copy per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from dosewise.io import DatasetStore
from dosewise.models import ModelConfig
from dosewise.config import DataConfig, OptimiserConfig, TrainConfig
from dosewise.training import train
from tests.helpers.discs import FRAMES_DOSE_E_PER_PX, noisy_discs


@pytest.fixture(scope="session")
def restore_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A restoration checkpoint trained for 6 quick epochs (seconds on a CPU)."""
    root = tmp_path_factory.mktemp("restore")
    rng = np.random.default_rng(0)
    store = DatasetStore.create(root / "pairs.zarr")
    for index in range(8):
        clean, noisy = noisy_discs(rng)
        store.write_sample(f"s{index:06d}_v000", {"clean": clean, "noisy": noisy},
                           {"dose_e_per_px": FRAMES_DOSE_E_PER_PX})
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
