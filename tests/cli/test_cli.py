"""The command line end to end: JSON output, known answers, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dosewise.io import read_image
from dosewise.physics import MTFParams, detector_image
from tests.helpers.cli import assert_one_line_error, invoke


@pytest.fixture()
def flat_npy(tmp_path: Path) -> Path:
    path = tmp_path / "flat.npy"
    np.save(path, np.full((128, 96), 7.0, dtype=np.float32))
    return path


def test_info_json_reports_shape_and_range(flat_npy: Path) -> None:
    result = invoke("info", flat_npy, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["shape"] == [128, 96]
    assert summary["min"] == summary["max"] == 7.0
    assert summary["pixel_size_A"] is None


def test_info_reads_real_dm3_pixel_size(real_data_dir: Path) -> None:
    result = invoke("info", real_data_dir / "stem" / "dlssstem__img.dm3", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["shape"] == [256, 256]
    assert summary["pixel_size_A"] == pytest.approx(1.312, rel=1e-3)


def test_noise_mean_equals_dose_per_px(tmp_path: Path, flat_npy: Path) -> None:
    out = tmp_path / "noisy.npy"
    result = invoke("noise", flat_npy, "--output", out, "--dose", 20, "--pixel-size", 0.5, "--seed", 3, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dose_e_per_px"] == pytest.approx(5.0)
    noisy = np.load(out)
    assert noisy.shape == (128, 96)
    assert noisy.mean() == pytest.approx(5.0, rel=0.03)
    assert noisy.var() == pytest.approx(5.0, rel=0.1)


def test_noise_with_preset_is_seeded(tmp_path: Path, flat_npy: Path) -> None:
    outputs = []
    for name in ("a.npy", "b.npy"):
        result = invoke("noise", flat_npy, "--output", tmp_path / name, "--dose", 3, "--dose-unit", "e/px",
                        "--mtf", "mtf3", "--seed", 11, "--json")
        assert result.exit_code == 0, result.output
        outputs.append(np.load(tmp_path / name))
        report = json.loads(result.stdout)
        assert 0.2 <= report["mtf"]["c0"] <= 0.3
        assert 0.005 <= report["n0_e_per_px"] <= 0.015
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_noise_needs_pixel_size_for_dose_per_area(tmp_path: Path, flat_npy: Path) -> None:
    out = tmp_path / "noisy.tif"
    result = invoke("noise", flat_npy, "--output", out, "--dose", 100)
    assert_one_line_error(result, "flat.npy", "pixel size")
    assert not out.exists()


@pytest.mark.parametrize("dose", ["0", "-5"])
def test_noise_rejects_non_positive_dose(tmp_path: Path, flat_npy: Path, dose: str) -> None:
    out = tmp_path / "noisy.tif"
    result = invoke("noise", flat_npy, "--output", out, "--dose", dose, "--dose-unit", "e/px")
    assert_one_line_error(result, "dose")
    assert not out.exists()


def test_noise_refuses_to_overwrite_its_input(flat_npy: Path) -> None:
    before = np.load(flat_npy)
    result = invoke("noise", flat_npy, "--output", flat_npy, "--dose", 5, "--dose-unit", "e/px")
    assert_one_line_error(result, "flat.npy")
    np.testing.assert_array_equal(np.load(flat_npy), before)


def test_bad_inputs_give_one_line_and_no_output(tmp_path: Path) -> None:
    nan_path = tmp_path / "nan.npy"
    data = np.ones((32, 32), dtype=np.float32)
    data[3, 4] = np.nan
    np.save(nan_path, data)
    truncated = tmp_path / "cut.tif"
    truncated.write_bytes(b"II*\x00\x08\x00\x00\x00garbage")
    unknown = tmp_path / "image.xyz"
    unknown.write_bytes(b"123")
    np.save(tmp_path / "empty.npy", np.zeros((0, 16), dtype=np.float32))
    np.save(tmp_path / "pixel.npy", np.ones((1, 1), dtype=np.float32))
    np.save(tmp_path / "four_d.npy", np.ones((2, 3, 16, 16), dtype=np.float32))
    cases = [
        (tmp_path / "missing.tif", "missing.tif"),
        (nan_path, "nan.npy"),
        (truncated, "cut.tif"),
        (unknown, "image.xyz"),
        (tmp_path / "empty.npy", "empty.npy"),
        (tmp_path / "pixel.npy", "pixel.npy"),
        (tmp_path / "four_d.npy", "four_d.npy"),
    ]
    for path, name in cases:
        out = tmp_path / "out.tif"
        result = invoke("noise", path, "--output", out, "--dose", 5, "--dose-unit", "e/px")
        assert_one_line_error(result, name)
        assert not out.exists()
        assert_one_line_error(invoke("info", path), name)


def test_fit_mtf_recovers_known_parameters(tmp_path: Path) -> None:
    true = MTFParams(c0=0.3, c3=2.5, C=0.2)
    frame = detector_image(np.ones((1024, 1024), np.float32), 50.0, mtf=true, seed=0)
    path = tmp_path / "vacuum.npy"
    np.save(path, frame)
    plot = tmp_path / "fit.png"
    result = invoke("fit-mtf", path, "--region", 0, 0, 1024, 1024, "--plot", plot, "--json")
    assert result.exit_code == 0, result.output
    fit = json.loads(result.stdout)["fits"][0]
    assert fit["c0"] == pytest.approx(0.3, rel=0.05)
    assert fit["C"] == pytest.approx(0.2, rel=0.05)
    assert fit["c3"] == pytest.approx(2.5, rel=0.10)
    assert fit["r2"] >= 0.98
    assert plot.stat().st_size > 0


def test_fit_mtf_rejects_region_outside_image(tmp_path: Path, flat_npy: Path) -> None:
    plot = tmp_path / "fit.png"
    result = invoke("fit-mtf", flat_npy, "--region", 0, 0, 500, 500, "--plot", plot)
    assert_one_line_error(result, "flat.npy", "region")
    assert not plot.exists()


def test_subsample_keeps_every_fifth_probe(tmp_path: Path) -> None:
    image = np.random.default_rng(0).random((61, 47)).astype(np.float32)
    path = tmp_path / "stem.npy"
    np.save(path, image)
    out, mask_out = tmp_path / "partial.npy", tmp_path / "mask.npy"
    result = invoke("subsample", path, "--output", out, "--coverage", "1/25", "--mask-out", mask_out, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["step"] == 5
    assert report["probe_positions"] == 13 * 10
    filled, mask = np.load(out), np.load(mask_out).astype(bool)
    np.testing.assert_array_equal(filled[mask], image[mask])
    np.testing.assert_array_equal(filled[::5, ::5], image[::5, ::5])


def test_subsample_rejects_coverage_that_is_not_a_square(tmp_path: Path, flat_npy: Path) -> None:
    out = tmp_path / "partial.npy"
    result = invoke("subsample", flat_npy, "--output", out, "--coverage", "1/20")
    assert_one_line_error(result, "1/20")
    assert not out.exists()


def test_written_tiff_reads_back(tmp_path: Path, flat_npy: Path) -> None:
    out = tmp_path / "noisy.tif"
    result = invoke("noise", flat_npy, "--output", out, "--dose", 5, "--dose-unit", "e/px")
    assert result.exit_code == 0, result.output
    assert read_image(out).shape == (128, 96)
