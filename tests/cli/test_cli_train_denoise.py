"""``dosewise train denoise`` on paired low/high-dose folders (seed 002), end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage

from dosewise.io import DatasetStore
from dosewise.checkpoint import load_model
from dosewise.training import split_for
from dosewise.training.denoise import denoise_config
from tests.helpers.cli import invoke

SIZE, UP, DOSE_E_PER_PX = 48, 4, 5.0


def _pair_folders(root: Path, n: int = 10) -> tuple[Path, Path]:
    """Dark discs on a bright field; high dose 4x finer and drifted, low dose ~5 e-/px."""
    rng = np.random.default_rng(0)
    low_dir, high_dir = root / "low", root / "high"
    low_dir.mkdir(), high_dir.mkdir()
    yy, xx = np.mgrid[: SIZE * UP, : SIZE * UP] / UP
    for index in range(n):
        fine = np.ones((SIZE * UP, SIZE * UP))
        for _ in range(3):
            cy, cx, r = rng.uniform(8, SIZE - 8), rng.uniform(8, SIZE - 8), rng.uniform(3, 7)
            fine -= 0.5 * ((yy - cy) ** 2 + (xx - cx) ** 2 < r**2)
        fine = np.clip(ndimage.gaussian_filter(fine, UP), 0.05, None)
        shift = rng.uniform(-2, 2, 2)
        low_clean = ndimage.shift(fine.reshape(SIZE, UP, SIZE, UP).mean((1, 3)), shift, mode="nearest")
        tifffile.imwrite(low_dir / f"field{index:02d}_low.tif", rng.poisson(DOSE_E_PER_PX * low_clean).astype(np.uint16))
        tifffile.imwrite(high_dir / f"field{index:02d}_high.tif", rng.poisson(60.0 * fine).astype(np.uint16))
    return low_dir, high_dir


def test_paired_training_beats_the_identity_baseline(tmp_path: Path) -> None:
    low_dir, high_dir = _pair_folders(tmp_path)
    out = tmp_path / "run"
    result = invoke(
        "train", "denoise", "--pairs", low_dir, high_dir, "--model", "unet-2-44", "--epochs", 12,
        "--batch-size", 4, "--lr", 3e-3, "--device", "cpu", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    store = DatasetStore.open(out / "pairs.zarr")
    assert len(store) == 10 and "shift_px" in store.sample(store.ids()[0]).metadata
    val_ids = split_for(denoise_config(out / "pairs.zarr")).val
    model = load_model(json.loads(result.stdout)["best_checkpoint"])
    identity, trained = [], []
    for sample_id in val_ids:
        sample = store.sample(sample_id)
        noisy, clean = sample.array("noisy"), sample.array("clean")
        identity.append(np.abs(noisy - clean).mean())
        trained.append(np.abs(model.predict(noisy) - clean).mean())
    assert np.mean(trained) < 0.8 * np.mean(identity)


def test_unpaired_files_are_one_line_errors(tmp_path: Path) -> None:
    low_dir, high_dir = _pair_folders(tmp_path, n=2)
    (high_dir / "field01_high.tif").unlink()
    result = invoke("train", "denoise", "--pairs", str(low_dir), str(high_dir), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "field01_low.tif" in result.output
    assert len(result.output.strip().splitlines()) == 1
