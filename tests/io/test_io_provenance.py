"""Outputs keep the source's calibration and metadata and say what dosewise did to them:
``.hspy`` through rosettasciio (axes, units, metadata, original_metadata), TIFF with ImageJ
calibration and the record as JSON in ``Info``; a second step appends to the first's record."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
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


def multi_signal_emd(folder: Path) -> Path:
    """A Berkeley EMD holding a BF image, an EDS spectrum and a HAADF image (as Velox files mix them)."""
    import h5py
    from rsciio.emd import file_writer

    rng = np.random.default_rng(5)
    axes = [{"name": n, "units": "nm", "scale": 0.2, "offset": 0.0, "size": size, "navigate": False}
            for n, size in (("y", 24), ("x", 30))]
    path = folder / "session.emd"
    file_writer(str(path), {"data": rng.random((24, 30)).astype(np.float32), "axes": axes,
                            "metadata": {"General": {"title": "HAADF"}, "Signal": {"signal_type": ""}},
                            "original_metadata": {}})
    with h5py.File(path, "r+") as h5:
        h5.copy("signals/HAADF", "signals/BF")
        h5["signals/BF/data"][...] = 5.0
        eds = h5["signals"].create_group("EDS")
        for key, value in h5["signals/HAADF"].attrs.items():
            eds.attrs[key] = value
        eds.create_dataset("data", data=rng.random(100).astype(np.float32))
        energy = eds.create_dataset("dim1", data=np.array([0.0, 0.01]))
        energy.attrs.update({"name": "Energy", "units": "keV"})
    return path


def test_info_lists_the_signals_and_signal_picks_one_by_title_or_index(tmp_path: Path) -> None:
    path = multi_signal_emd(tmp_path)
    report = json.loads(invoke("info", str(path), "--json").stdout)
    assert [(s["title"], s["kind"]) for s in report["signals"]] == [("BF", "image"), ("EDS", "spectrum"),
                                                                     ("HAADF", "image")]
    assert report["mean"] == 5.0  # the first image signal by default
    assert json.loads(invoke("info", str(path), "--signal", "HAADF", "--json").stdout)["mean"] != 5.0
    assert json.loads(invoke("info", str(path), "--signal", "0", "--json").stdout)["mean"] == 5.0
    assert_one_line_error(invoke("info", str(path), "--signal", "EDS"), "is a spectrum, not an image")
    assert_one_line_error(invoke("info", str(path), "--signal", "ABF"), "no signal 'ABF'", "2 'HAADF' (image)")
    tiff = write_image(tmp_path / "one.tif", np.ones((8, 8), np.float32))
    assert_one_line_error(invoke("info", str(tiff), "--signal", "1"), "--signal applies")
    result = invoke("denoise", str(path), "--signal", "HAADF", "-o", str(tmp_path / "out"), "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert read_image(tmp_path / "out" / "session_denoised.tif").data.shape == (24, 30)


@pytest.mark.parametrize(("y_A", "x_A", "square"), [(0.5, 0.5002, True), (0.5, 0.5004, True), (0.5, 0.51, False)])
def test_drift_corrected_pixels_within_1e_3_are_square_and_both_sizes_are_kept(
        tmp_path: Path, y_A: float, x_A: float, square: bool) -> None:
    path = tmp_path / "drift.tif"
    tifffile.imwrite(path, np.ones((8, 8), np.float32), imagej=True, metadata={"unit": "nm"},
                     resolution=(10.0 / x_A, 10.0 / y_A))
    image = read_image(path)
    assert np.allclose(image.metadata["pixel_size_yx_A"], [y_A, x_A], rtol=1e-6)
    assert (image.pixel_size_A is not None) == square
