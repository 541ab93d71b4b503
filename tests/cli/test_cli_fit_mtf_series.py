"""`dosewise fit-mtf` over a vacuum dose series: N0, figures, CSV, a preset the simulator takes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from dosewise.physics import MTFParams, detector_image
from tests.helpers.cli import assert_one_line_error, invoke

DOSES_E_PER_PX = np.geomspace(0.01, 10.0, 8)
PIXEL_SIZE_A = 0.5
N0_TRUE = 0.01


@pytest.fixture()
def vacuum_stack(tmp_path: Path) -> Path:
    """8 vacuum frames, 256² px (see tests/physics/test_physics_mtf_series.py for the size)."""
    rng = np.random.default_rng(0)
    flat = np.ones((256, 256), np.float32)
    mtf = MTFParams(c0=0.3, c3=2.5)
    path = tmp_path / "vacuum.npy"
    np.save(path, np.stack([detector_image(flat, d, mtf=mtf, n0_e_per_px=N0_TRUE, seed=rng) for d in DOSES_E_PER_PX]))
    return path


def test_fit_mtf_dose_series_writes_figures_csv_and_preset(tmp_path: Path, vacuum_stack: Path) -> None:
    doses_file = tmp_path / "doses.csv"
    doses_A2 = DOSES_E_PER_PX / PIXEL_SIZE_A**2
    doses_file.write_text("dose_e_per_A2\n" + "\n".join(f"{d:.10g}" for d in doses_A2) + "\n", encoding="utf-8")
    out, preset = tmp_path / "fit", tmp_path / "my_detector.yaml"
    result = invoke("fit-mtf", vacuum_stack, "--region", 0, 0, 256, 256, "--doses", doses_file,
                    "--pixel-size", PIXEL_SIZE_A, "-o", out, "--preset-out", preset, "--min-r2", 0.95, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["readout"]["n0_e_per_px"] == pytest.approx(N0_TRUE, rel=0.25)
    assert len(report["fits"]) == 8
    assert report["fits"][2]["dose_e_per_px"] == pytest.approx(DOSES_E_PER_PX[2])
    for name in ("mtf_series.csv", "mtf_vs_dose.png", "readout_n0.png", "vacuum_mtf_fit.png"):
        assert (out / name).stat().st_size > 0, name
    with open(out / "mtf_series.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 and float(rows[0]["dose_e_per_A2"]) == pytest.approx(doses_A2[0])
    n0 = report["readout"]["n0_e_per_px"]
    assert report["preset"]["n0_range_e_per_px"] == pytest.approx([0.5 * n0, 1.5 * n0])

    clean = tmp_path / "clean.npy"
    np.save(clean, np.ones((64, 64), np.float32))
    noisy = invoke("noise", clean, "--output", tmp_path / "noisy.npy", "--dose", 5, "--dose-unit", "e/px",
                   "--mtf", preset, "--json")
    assert noisy.exit_code == 0, noisy.output
    drawn = json.loads(noisy.stdout)
    low, high = report["preset"]["c0_range"]
    assert low - 1e-5 <= drawn["mtf"]["c0"] <= high + 1e-5
    assert 0.5 * n0 * 0.999 <= drawn["n0_e_per_px"] <= 1.5 * n0 * 1.001


def test_fit_mtf_doses_count_mismatch_writes_nothing(tmp_path: Path, vacuum_stack: Path) -> None:
    out, preset, plot = tmp_path / "fit", tmp_path / "det.yaml", tmp_path / "fit.png"
    result = invoke("fit-mtf", vacuum_stack, "--region", 0, 0, 256, 256, "--doses", "10,20,40",
                    "--pixel-size", PIXEL_SIZE_A, "-o", out, "--preset-out", preset, "--plot", plot)
    assert_one_line_error(result, "vacuum.npy", "3 doses given for 8 frames")
    assert not out.exists() and not preset.exists() and not plot.exists()


def test_fit_mtf_dose_errors_are_one_line(tmp_path: Path, vacuum_stack: Path) -> None:
    plot = tmp_path / "fit.png"
    doses = ",".join(str(d) for d in DOSES_E_PER_PX)
    no_pixel = invoke("fit-mtf", vacuum_stack, "--region", 0, 0, 256, 256, "--doses", doses, "--plot", plot)
    assert_one_line_error(no_pixel, "pixel size")
    no_doses = invoke("fit-mtf", vacuum_stack, "--region", 0, 0, 256, 256, "--plot", plot,
                      "--preset-out", tmp_path / "det.yaml")
    assert_one_line_error(no_doses, "--preset-out")
    assert not plot.exists()


def test_fit_mtf_doses_per_pixel_without_calibration(tmp_path: Path, vacuum_stack: Path) -> None:
    doses = ",".join(str(d) for d in DOSES_E_PER_PX)
    result = invoke("fit-mtf", vacuum_stack, "--region", 0, 0, 128, 128, "--doses", doses, "--dose-unit", "e/px",
                    "--floor", "readout", "--plot", tmp_path / "fit.png", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["fits"][0]["dose_e_per_A2"] is None
    assert report["readout"]["n0_e_per_px"] > 0
    assert report["files"] == {"csv": None, "mtf_vs_dose": None, "readout_n0": None, "preset": None}
