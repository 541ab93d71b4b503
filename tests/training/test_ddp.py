"""Lightning DDP as the recipes pass it (``strategy``, ``devices``): two CPU processes (gloo)
train like one. Run through the command line, as a cluster job would: Lightning's DDP launcher
starts the second process by running the same command again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.discs import write_disc_store

DOSEWISE = Path(sys.executable).parent / "dosewise"


@pytest.fixture
def discs(tmp_path: Path) -> Path:
    return write_disc_store(tmp_path / "discs.zarr", n_structures=8, n_variants=2)


def _train(tmp_path: Path, store: Path, name: str, **settings: object) -> dict[str, object]:
    recipe = {"task": "segment", "model": {"name": "unet-2-44"},
              "data": {"store": str(store), "input": "noisy", "target": "mask", "crop_px": 32},
              "epochs": 12, "device": "cpu", "seed": 0, "out_dir": str(tmp_path / name), **settings}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    done = subprocess.run([str(DOSEWISE), "train", "segment", "--config", str(path), "--json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout  # the second process prints nothing
    return json.loads(lines[0])


def test_ddp_on_two_cpu_processes_trains_like_one_process(discs: Path, tmp_path: Path) -> None:
    # the same global batch (2 processes x 2 = 1 x 4), so the same number of optimiser steps
    one = _train(tmp_path, discs, "one", batch_size=4)
    two = _train(tmp_path, discs, "ddp", batch_size=2, strategy="ddp", devices=2)
    assert sorted(p.name for p in (tmp_path / "ddp" / "checkpoints").iterdir()) == sorted(
        p.name for p in (tmp_path / "one" / "checkpoints").iterdir())
    loss_one, loss_two = one["metrics"]["val/loss"], two["metrics"]["val/loss"]
    assert loss_two < 0.6  # it learned (BCE of a constant guess on these discs is ~0.69)
    assert abs(loss_two - loss_one) <= 0.1 * loss_one, (loss_one, loss_two)  # within 10 %
