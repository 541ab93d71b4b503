"""``dosewise train segment`` then ``dosewise segment``, end to end on a tiny synthetic store."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import yaml

from dosewise.io import DatasetStore, read_image
from tests.helpers.cli import invoke


def test_train_then_segment(tmp_path: Path, disc_store_cli: Path) -> None:
    store = disc_store_cli
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({
        "model": {"name": "msdnet", "options": {"depth": 4, "max_dilation": 4}},
        "data": {"crop_px": 32, "val_fraction": 0.25},
        "optimiser": {"lr": 0.01},
        "batch_size": 4,
    }))
    run = tmp_path / "run"
    result = invoke("train", "segment", "--config", recipe, "--data", store, "--epochs", 2, "--out", run, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    checkpoint = Path(report["best_checkpoint"])
    assert checkpoint.is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    assert "val/dice" in report["metrics"]

    image = tmp_path / "particles.npy"
    np.save(image, DatasetStore.open(store).sample("s000000_v000").array("noisy"))
    out = tmp_path / "seg"
    result = invoke("segment", image, "-o", out, "--model", checkpoint, "--tile", 32, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["images"][0]
    assert read_image(out / "particles_mask.tif").shape == (40, 40)
    assert (out / "particles_overlay.png").stat().st_size > 0
    with open(out / "particles_particles.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == summary["particles"]


def test_train_without_data_is_a_one_line_error(tmp_path: Path) -> None:
    result = invoke("train", "segment", "--out", tmp_path / "run")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--data" in result.stderr


def test_segment_with_missing_checkpoint(tmp_path: Path) -> None:
    image = tmp_path / "x.npy"
    np.save(image, np.ones((16, 16), np.float32))
    result = invoke("segment", image, "-o", tmp_path / "out", "--model", tmp_path / "none.ckpt")
    assert result.exit_code == 2
    assert "none.ckpt" in result.stderr
    assert not (tmp_path / "out").exists()
