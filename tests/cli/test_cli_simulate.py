"""``dosewise simulate`` and ``dosewise demo`` end to end, at tiny sizes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dosewise.io import DatasetStore
from tests.helpers.cli import invoke


def test_simulate_hrtem_writes_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "train.zarr"
    args = ("simulate", "hrtem", "--out", out, "--n", 1, "--variants", 2, "--size", 64,
            "--pixel-size", 0.5, "--dose-range", 100, 1000, "--seed", 4, "--json")
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["samples"] == 2
    store = DatasetStore.open(out)
    sample = store.sample(store.ids()[0])
    assert 100 <= sample.metadata["dose_e_per_A2"] <= 1000
    assert sample.array("mask").any()
    before = sample.array("noisy")
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["samples"] == 2
    np.testing.assert_array_equal(DatasetStore.open(out).sample(store.ids()[0]).array("noisy"), before)


def test_simulate_rejects_bad_dose_range(tmp_path: Path) -> None:
    out = tmp_path / "train.zarr"
    result = invoke("simulate", "hrtem", "--out", out, "--dose-range", 0, 100)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "dose range" in result.stderr
    assert not out.exists()


def test_simulate_dose_series_rises(tmp_path: Path) -> None:
    out = tmp_path / "series.zarr"
    result = invoke("simulate", "dose-series", "--out", out, "--dose-range", 10, 1000, "--frames", 3,
                    "--size", 64, "--pixel-size", 0.5, "--json")
    assert result.exit_code == 0, result.output
    store = DatasetStore.open(out)
    doses = [store.sample(i).metadata["dose_e_per_A2"] for i in store.ids()]
    np.testing.assert_allclose(doses, [10.0, 100.0, 1000.0])


def test_demo_writes_report(tmp_path: Path) -> None:
    result = invoke("demo", "--out", tmp_path, "--quick")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64") >= 6
    assert "Held-out Dice" in html
    assert "Self-supervised pretraining" in html and "best-so-far checkpoint at each epoch" in html
    assert (tmp_path / "finetune_curves.png").stat().st_size > 10_000
    assert "Denoising with the shipped model" in html and "PSNR denoised" in html
    for name in ("montage_dose_series", "montage_dataset", "mtf_fit", "readout_fit", "segmentation_held_out",
                 "denoising_dose_series"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
