"""``dosewise simulate particles`` end to end, at tiny sizes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dosewise.io import DatasetStore
from tests.helpers.cli import assert_one_line_error, invoke


def test_simulate_particles_writes_the_labelled_arrays_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "particles.zarr"
    args = ("simulate", "particles", "--out", out, "--n", 2, "--size", 32, "--seed", 3, "--modality", "adf",
            "--dose-range", 10, 100, "--diameter-range", 6, 12, "--json")
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"store": str(out), "samples": 2, "size_px": 32, "modality": "adf"}
    store = DatasetStore.open(out)
    sample = store.sample(store.ids()[0])
    assert sample.names == ["boundary", "clean", "labels", "mask", "noisy"]
    assert sample.array("labels").dtype == np.int32 and sample.array("mask").dtype == np.uint8
    assert sample.metadata["modality"] == "adf" and 10 <= sample.metadata["dose_e_per_px"] <= 100
    before = sample.array("noisy")
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    np.testing.assert_array_equal(DatasetStore.open(out).sample(store.ids()[0]).array("noisy"), before)


def test_simulate_particles_refuses_a_bad_count(tmp_path: Path) -> None:
    out = tmp_path / "particles.zarr"
    assert_one_line_error(invoke("simulate", "particles", "--out", out, "--n", 0), "--n must be >= 1")
    assert_one_line_error(invoke("simulate", "particles", "--out", out, "--dose-range", 5, 1), "--dose-range")
    assert not out.exists()
