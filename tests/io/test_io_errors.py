"""Bad inputs raise the right DosewiseError with a one-line message naming the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import mrcfile
import numpy as np
import pytest
import tifffile
from PIL import Image

from dosewise.errors import DosewiseError, InputFileError, InvalidImageError
from dosewise.io import read_image, validate_image


def _raises(error: type[DosewiseError], path: Path, match: str) -> DosewiseError:
    with pytest.raises(error, match=match) as info:
        read_image(path)
    message = str(info.value)
    assert path.name in message
    assert "\n" not in message
    return info.value


def test_missing_file(tmp_path):
    _raises(InputFileError, tmp_path / "nothere.tif", "file not found")


def test_directory(tmp_path):
    (tmp_path / "dir.tif").mkdir()
    _raises(InputFileError, tmp_path / "dir.tif", "is not a file")


@pytest.mark.parametrize("name", ["image.xyz", "image"])
def test_unknown_suffix_lists_supported(tmp_path, name):
    (tmp_path / name).write_bytes(b"data")
    _raises(InputFileError, tmp_path / name, r"unknown file type .*\.dm3.*\.tif")


def _tiff(path: Path) -> None:
    tifffile.imwrite(path, np.ones((64, 64), np.uint16))


def _png(path: Path) -> None:
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8)).save(path)


def _npy(path: Path) -> None:
    np.save(path, np.ones((64, 64), np.float32))


def _mrc(path: Path) -> None:
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.ones((64, 64), np.float32))


def _hdf5(path: Path) -> None:
    with h5py.File(path, "w") as f:
        f.create_dataset("image", data=np.ones((64, 64), np.float32))


@pytest.mark.parametrize(
    "name,make,fmt",
    [
        ("t.tif", _tiff, "tiff"),
        ("p.png", _png, "png"),
        ("a.npy", _npy, "npy"),
        ("m.mrc", _mrc, "mrc"),
        ("h.hdf5", _hdf5, "hdf5"),
    ],
)
def test_truncated_synthetic_file(tmp_path, name, make, fmt):
    full = tmp_path / f"full_{name}"
    make(full)
    (tmp_path / name).write_bytes(full.read_bytes()[:100])
    _raises(InputFileError, tmp_path / name, f"cannot read {fmt} file: ")


@pytest.mark.parametrize(
    "name,fmt",
    [
        ("stem/dlssstem__img.dm3", "dm3"),
        ("stem/ncempy__After_HAADF_130mm_1.ser", "ser"),
        ("stem/atomap__test_ADF_cropped.hdf5", "hdf5"),
        ("lowdose_tem/katsuno_LDE__train_0001__exposureA.tif", "tiff"),
    ],
)
def test_truncated_real_file(tmp_path, real_data_dir, name, fmt):
    source = real_data_dir / name
    target = tmp_path / source.name
    target.write_bytes(source.read_bytes()[:100])
    _raises(InputFileError, target, f"cannot read {fmt} file: ")


def test_corrupt_vendor_file_garbage(tmp_path):
    (tmp_path / "bad.dm4").write_bytes(b"\x00" * 4096)
    _raises(InputFileError, tmp_path / "bad.dm4", "cannot read dm4 file: ")


def test_pickled_npy_is_refused(tmp_path):
    with open(tmp_path / "obj.npy", "wb") as f:
        np.save(f, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _raises(InputFileError, tmp_path / "obj.npy", "cannot read npy file")


@pytest.mark.parametrize(
    "array,match",
    [
        (np.zeros((0, 5), np.float32), r"image is empty \(shape \(0, 5\)\)"),
        (np.zeros((1, 1), np.float32), "fewer than 2 pixels along a spatial axis"),
        (np.zeros((1, 30), np.float32), "fewer than 2 pixels along a spatial axis"),
        (np.zeros((30,), np.float32), r"got 1-D shape \(30,\)"),
        (np.zeros((2, 3, 4, 5), np.float32), r"got shape \(2, 3, 4, 5\)"),
        (np.array([[np.nan, 1.0], [np.inf, 2.0]]), "contains 2 NaN/inf values"),
        (np.ones((4, 4), np.complex64), "not a real number type"),
    ],
    ids=["empty", "one-pixel", "one-row", "1-D", "4-D", "nan-inf", "complex"],
)
def test_invalid_arrays(tmp_path, array, match):
    np.save(tmp_path / "bad.npy", array)
    _raises(InvalidImageError, tmp_path / "bad.npy", match)


def test_float64_beyond_float32_range():
    with pytest.raises(InvalidImageError, match="beyond the float32 range"):
        validate_image(np.full((4, 4), 1e300), "x.npy")


def test_validate_image_squeezes_and_converts():
    out = validate_image(np.ones((1, 5, 6, 1), np.uint16), None)
    assert out.shape == (5, 6) and out.dtype == np.float32


def test_hdf5_with_several_images_is_ambiguous(tmp_path):
    with h5py.File(tmp_path / "two.h5", "w") as f:
        f.create_dataset("a", data=np.ones((4, 4)))
        f.create_dataset("b", data=np.ones((4, 4)))
    _raises(InputFileError, tmp_path / "two.h5", "exactly one image dataset .*found: a, b")


def test_png_content_must_be_png(tmp_path):
    tifffile.imwrite(tmp_path / "really_a_tiff.png", np.ones((8, 8), np.uint8))
    _raises(InputFileError, tmp_path / "really_a_tiff.png", "cannot read png file")


def test_error_keeps_cause_for_debugging(tmp_path):
    shutil.copy(Path(__file__), tmp_path / "text.tif")
    error = _raises(InputFileError, tmp_path / "text.tif", "cannot read tiff file")
    assert error.__cause__ is not None
