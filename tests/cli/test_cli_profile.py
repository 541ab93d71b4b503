"""``dosewise profile`` end to end: csv + png + json, the two-profile case, one-line errors with exit code 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.cli import assert_one_line_error, invoke
from tests.helpers.images import sphere_image

# Spheres of 40 and 30 px diameter, centres 48 px apart, blurred by σ = 1.5 px.
SPHERE_PAIR = [(60.0, 40.0, 20.0), (108.0, 40.0, 15.0)]


@pytest.fixture()
def images(tmp_path: Path) -> tuple[Path, Path]:
    raw, denoised = tmp_path / "raw.npy", tmp_path / "denoised.npy"
    np.save(raw, sphere_image((80, 160), SPHERE_PAIR, dose=300.0))
    np.save(denoised, sphere_image((80, 160), SPHERE_PAIR, dose=None))
    return raw, denoised


def test_profile_writes_csv_png_json(tmp_path: Path, images: tuple[Path, Path]) -> None:
    raw, denoised = images
    out = tmp_path / "out"
    result = invoke("profile", raw, "--denoised", denoised, "--start", 5, 40, "--end", 154, 40,
                    "--width", 5, "--pixel-size", 12.5, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report == json.loads((out / "profile.json").read_text())
    for label, tolerance in (("raw", 0.05), ("denoised", 0.01)):
        fitted = report["profiles"][label]
        assert [p["diameter_nm"] for p in fitted["particles"]] == pytest.approx([50.0, 37.5], rel=tolerance)
        assert fitted["separation_nm"] == pytest.approx(60.0, rel=0.02)
        assert fitted["resolved"] is True
    assert report["profiles"]["denoised"]["background"] == pytest.approx(1.0, rel=0.01)
    with (out / "profile.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["distance_px", "distance_nm", "x_px", "y_px", "raw_intensity", "raw_model",
                             "denoised_intensity", "denoised_model"]
    assert len(rows) == 150 and float(rows[-1]["distance_nm"]) == pytest.approx(149 * 1.25)
    assert (out / "profile.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.load(raw).shape == (80, 160)  # inputs untouched


def test_profile_table_output_in_px(tmp_path: Path, images: tuple[Path, Path]) -> None:
    raw, _ = images
    result = invoke("profile", raw, "--start", 5, 40, "--end", 154, 40, "--particles", 2, "-o", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "resolved" in result.stderr and "diameter (px)" in result.stderr
    with (tmp_path / "o" / "profile.csv").open() as handle:
        assert handle.readline().strip() == "distance_px,x_px,y_px,raw_intensity,raw_model"


def test_point_outside_the_image_is_one_line_exit_2(tmp_path: Path, images: tuple[Path, Path]) -> None:
    raw, _ = images
    out = tmp_path / "out"
    result = invoke("profile", raw, "--start", 5, 40, "--end", 170, 40, "-o", out)
    assert_one_line_error(result, "raw.npy", "end point (170, 40) is outside the 160x80 image")
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--start", 20, 20, "--end", 20, 20], ["less than 1 px apart"]),
        (["--start", 5, 40, "--end", 154, 40, "--width", 0], ["--width must be >= 1"]),
        (["--start", 5, 40, "--end", 154, 40, "--particles", 3], ["--particles must be 1 or 2"]),
    ],
)
def test_bad_parameters_are_one_line_exit_2(tmp_path: Path, images: tuple[Path, Path], extra, fragments) -> None:
    raw, _ = images
    assert_one_line_error(invoke("profile", raw, *extra, "-o", tmp_path / "out"), *fragments)


def test_unreadable_image_and_shape_mismatch_are_one_line_exit_2(tmp_path: Path, images: tuple[Path, Path]) -> None:
    raw, _ = images
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"not a tiff")
    line = ["--start", 5, 40, "--end", 154, 40, "-o", tmp_path / "out"]
    assert_one_line_error(invoke("profile", broken, *line), "broken.tif")
    small = tmp_path / "small.npy"
    np.save(small, np.ones((80, 150), dtype=np.float32))
    assert_one_line_error(invoke("profile", raw, "--denoised", small, *line), "small.npy", "differs")
    assert not (tmp_path / "out").exists()
