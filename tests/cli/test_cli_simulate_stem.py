"""``dosewise simulate stem`` end to end, at tiny sizes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dosewise.io import DatasetStore
from tests.helpers.cli import invoke


def test_simulate_stem_writes_the_given_count_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "stem.zarr"
    args = ("simulate", "stem", "--out", out, "--n", 3, "--size", 32, "--dose-range", 100, 1000,
            "--seed", 2, "--materials", "Au,SrTiO3[100]", "--json")
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"store": str(out), "samples": 3, "size_px": 32}
    store = DatasetStore.open(out)
    assert store.attrs["kind"] == "stem"
    sample = store.sample(store.ids()[0])
    assert sample.names == ["clean", "mask", "noise_free", "noisy", "superres"]
    assert sample.array("noisy").shape == (32, 32) and sample.array("mask").dtype == np.uint8
    assert 100 <= sample.metadata["dose_e_per_A2"] <= 1000
    assert sample.metadata["material"] in ("Au", "SrTiO3")
    before = sample.array("noisy")
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["samples"] == 3
    np.testing.assert_array_equal(DatasetStore.open(out).sample(store.ids()[0]).array("noisy"), before)


@pytest.mark.parametrize(("extra", "message"), [
    (("--n", 0), "--n must be >= 1, got 0"),
    (("--dose-range", 0, 100), "dose range"),
    (("--pixel-size-range", 0.2, 0.1), "pixel size range"),
    (("--materials", "Au[123]"), "Au has no zone axis [123]"),
    (("--workers", 0), "--workers must be >= 1"),
])
def test_simulate_stem_bad_values_exit_2_with_one_line(tmp_path: Path, extra: tuple, message: str) -> None:
    out = tmp_path / "stem.zarr"
    result = invoke("simulate", "stem", "--out", out, "--size", 32, *extra)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert not out.exists()
