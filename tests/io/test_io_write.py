"""write_image round-trips, atomic writes, and refusal to overwrite inputs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tifffile

from dosewise.errors import InvalidImageError, InvalidParameterError, OutputFileError
from dosewise.image import EMImage
from dosewise.io import atomic_write, read_image, write_image

RNG = np.random.default_rng(1)


def test_tiff_float32_round_trip_with_pixel_size(tmp_path):
    stack = RNG.normal(size=(3, 16, 20)).astype(np.float32)
    out = write_image(tmp_path / "s.tif", stack, pixel_size_A=1.312)
    assert out == tmp_path / "s.tif"
    image = read_image(out)
    np.testing.assert_array_equal(image.data, stack)
    assert image.original_dtype == "float32"
    assert image.pixel_size_A == pytest.approx(1.312, rel=1e-6)


def test_tiff_uint16_scales_min_max(tmp_path):
    data = np.linspace(-2.0, 3.0, 16 * 20, dtype=np.float32).reshape(16, 20)
    image = read_image(write_image(tmp_path / "u.tiff", data, dtype="uint16"))
    assert image.original_dtype == "uint16"
    assert image.data.min() == 0 and image.data.max() == 65535
    np.testing.assert_allclose(image.data, (data + 2.0) / 5.0 * 65535, atol=0.5)


def test_png_is_percentile_scaled_8_bit_view(tmp_path):
    data = RNG.random((50, 40)).astype(np.float32)
    data[0, 0] = 1e6  # a hot pixel must not wash out the view
    image = read_image(write_image(tmp_path / "v.png", data))
    assert image.original_dtype == "uint8" and image.shape == (50, 40)
    assert image.data.max() == 255 and image.data.min() == 0
    assert image.data.mean() > 60


def test_npy_raw_float32(tmp_path):
    data = RNG.random((8, 9))
    out = write_image(tmp_path / "r.npy", data)
    loaded = np.load(out)
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, data.astype(np.float32))


def test_emimage_brings_its_pixel_size(tmp_path):
    image = EMImage(data=np.ones((8, 9), np.float32), pixel_size_A=2.5)
    assert read_image(write_image(tmp_path / "e.tif", image)).pixel_size_A == pytest.approx(2.5)


def test_unknown_output_suffix(tmp_path):
    with pytest.raises(OutputFileError, match=r"unknown output type '\.jpg'; writable: \.npy"):
        write_image(tmp_path / "x.jpg", np.ones((4, 4)))


def test_png_cannot_hold_a_stack(tmp_path):
    with pytest.raises(OutputFileError, match="PNG holds one 2-D image"):
        write_image(tmp_path / "x.png", np.ones((2, 4, 4)))
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "kwargs,match",
    [({"dtype": "uint8"}, "dtype must be one of"), ({"pixel_size_A": -1.0}, "pixel size")],
)
def test_bad_write_parameters(tmp_path, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        write_image(tmp_path / "x.tif", np.ones((4, 4)), **kwargs)


def test_uint16_only_for_tiff(tmp_path):
    with pytest.raises(InvalidParameterError, match="TIFF output only"):
        write_image(tmp_path / "x.png", np.ones((4, 4)), dtype="uint16")


def test_invalid_data_is_not_written(tmp_path):
    with pytest.raises(InvalidImageError, match="NaN"):
        write_image(tmp_path / "x.tif", np.full((4, 4), np.nan))
    assert os.listdir(tmp_path) == []


def test_overwrite_off(tmp_path):
    write_image(tmp_path / "x.npy", np.ones((4, 4)))
    with pytest.raises(OutputFileError, match="already exists"):
        write_image(tmp_path / "x.npy", np.zeros((4, 4)), overwrite=False)
    assert np.load(tmp_path / "x.npy").max() == 1


def test_missing_output_directory(tmp_path):
    with pytest.raises(OutputFileError, match="does not exist"):
        write_image(tmp_path / "no" / "x.npy", np.ones((4, 4)))


def test_writing_onto_an_input_is_refused(tmp_path, monkeypatch):
    source = tmp_path / "in.tif"
    tifffile.imwrite(source, np.ones((4, 4), np.uint16))
    before = source.read_bytes()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link.tif").symlink_to(source)
    (tmp_path / "sub").mkdir()
    for target in (source, "in.tif", tmp_path / "sub" / ".." / "in.tif", "link.tif"):
        with pytest.raises(OutputFileError, match="refusing to overwrite input file") as info:
            write_image(target, np.zeros((4, 4)), inputs=[source])
        assert "\n" not in str(info.value)
    assert source.read_bytes() == before
    # A different output next to the input is fine.
    write_image(tmp_path / "out.tif", np.zeros((4, 4)), inputs=[source])


def test_failed_write_leaves_no_file_and_keeps_old_one(tmp_path, monkeypatch):
    target = tmp_path / "x.tif"

    def broken_imwrite(path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"II*\x00 partial")
        raise RuntimeError("disk exploded")

    monkeypatch.setattr(tifffile, "imwrite", broken_imwrite)
    with pytest.raises(RuntimeError, match="disk exploded"):
        write_image(target, np.ones((4, 4)))
    assert os.listdir(tmp_path) == []

    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        write_image(target, np.ones((4, 4)))
    assert os.listdir(tmp_path) == ["x.tif"] and target.read_bytes() == b"old"


def test_atomic_write_for_other_files(tmp_path):
    report = tmp_path / "report.json"
    with atomic_write(report) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".json" and tmp != report
        tmp.write_text(json.dumps({"ok": True}))
        assert not report.exists()
    assert json.loads(report.read_text()) == {"ok": True}
    assert os.listdir(tmp_path) == ["report.json"]

    with pytest.raises(ValueError), atomic_write(report) as tmp:
        tmp.write_text("half")
        raise ValueError("boom")
    assert json.loads(report.read_text()) == {"ok": True}
    assert os.listdir(tmp_path) == ["report.json"]


def test_atomic_write_os_error_becomes_output_file_error(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "child").write_text("x")
    with pytest.raises(OutputFileError, match="cannot write file") as info:
        with atomic_write(tmp_path / "taken") as tmp:
            tmp.write_text("data")  # os.replace onto a non-empty directory fails
    assert "\n" not in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["taken"]
