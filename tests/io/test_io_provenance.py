"""Outputs keep the source's calibration and metadata and say what dosewise did to them:
``.hspy`` through rosettasciio (axes, units, metadata, original_metadata), TIFF with ImageJ
calibration and the record as JSON in ``Info``; a second step appends to the first's record."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import tifffile
from rsciio.hspy import file_reader

from dosewise.infer.denoise import default_model_path
from dosewise.io import processing_record, provenance, read_image, write_image
from tests.helpers.cli import assert_one_line_error, invoke


def calibrated_source(folder: Path) -> Path:
    """A HyperSpy file as a microscope session leaves it: nm axes, a title, vendor tags."""
    frame = np.random.default_rng(0).poisson(6.0, (64, 72)).astype(np.float32)
    metadata = {"title": "Au on C, 300 kV", "original_metadata": {"Microscope": {"voltage_kV": 300, "mag": 2e5}},
                "processing": []}
    return write_image(folder / "session.hspy", frame, pixel_size_A=0.82, metadata=metadata)


def test_denoise_to_hspy_keeps_axes_and_metadata_and_records_the_model(tmp_path: Path) -> None:
    source = calibrated_source(tmp_path)
    result = invoke("denoise", str(source), "-o", str(tmp_path / "out"), "--format", "hspy", "--device", "cpu")
    assert result.exit_code == 0, result.output
    (signal,) = file_reader(str(tmp_path / "out" / "session_denoised.hspy"))
    assert [(a["units"], round(float(a["scale"]), 6), int(a["size"])) for a in signal["axes"]] == \
        [("nm", 0.082, 64), ("nm", 0.082, 72)]
    assert signal["original_metadata"]["Microscope"]["voltage_kV"] == 300
    assert signal["metadata"]["General"]["title"] == "Au on C, 300 kV"
    (step,) = signal["metadata"]["Processing"]["dosewise"]
    assert step["operation"] == "denoise" and step["model"] == "denoise-default.ckpt"
    assert step["model_sha256"] == hashlib.sha256(default_model_path().read_bytes()).hexdigest()


def test_tiff_outputs_carry_calibration_and_the_record_and_a_second_step_appends(tmp_path: Path) -> None:
    source = calibrated_source(tmp_path)
    assert invoke("denoise", str(source), "-o", str(tmp_path / "a"), "--device", "cpu").exit_code == 0
    first = tmp_path / "a" / "session_denoised.tif"
    with tifffile.TiffFile(first) as tif:
        info = json.loads(tif.imagej_metadata["Info"])
        assert tif.imagej_metadata["unit"] == "nm"
    assert info["original_metadata"]["Microscope"]["mag"] == 2e5
    assert [s["operation"] for s in info["processing"]] == ["denoise"]
    assert abs(read_image(first).pixel_size_A - 0.82) < 1e-6
    assert invoke("denoise", str(first), "-o", str(tmp_path / "b"), "--format", "hspy", "--device", "cpu").exit_code == 0
    (signal,) = file_reader(str(tmp_path / "b" / "session_denoised_denoised.hspy"))
    assert [s["operation"] for s in signal["metadata"]["Processing"]["dosewise"]] == ["denoise", "denoise"]
    assert signal["original_metadata"]["Microscope"]["voltage_kV"] == 300


def test_a_record_names_what_ran() -> None:
    record = processing_record("segment", default_model_path(), dose_e_per_A2=20.0, threshold=0.5)
    carried = provenance({"title": "t"}, "x.dm4", record)
    assert carried["processing"] == [record] and record["threshold"] == 0.5 and record["dose_e_per_A2"] == 20.0


def test_an_unknown_output_format_is_one_line(tmp_path: Path) -> None:
    source = calibrated_source(tmp_path)
    result = invoke("denoise", str(source), "-o", str(tmp_path / "out"), "--format", "png")
    assert_one_line_error(result, "--format must be one of tif, hspy")
    assert not (tmp_path / "out").exists()


def test_a_supersampled_small_scan_is_calibrated_on_the_finer_full_grid(tmp_path: Path) -> None:
    probes = np.random.default_rng(3).random((30, 34)).astype(np.float32)
    source = write_image(tmp_path / "probes.tif", probes, pixel_size_A=1.5)
    result = invoke("supersample", str(source), "--coverage", "1/25", "-o", str(tmp_path / "out"), "--device", "cpu")
    assert result.exit_code == 0, result.output
    output = tmp_path / "out" / "probes_supersampled.tif"
    assert abs(read_image(output).pixel_size_A - 0.3) < 1e-6
    with tifffile.TiffFile(output) as tif:
        (step,) = json.loads(tif.imagej_metadata["Info"])["processing"]
    assert step["operation"] == "supersample" and step["coverage"] == "1/25" and 0 <= step["trust"] <= 1
