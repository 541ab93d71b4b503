"""Readers on small synthetic files written by the reference libraries."""

from __future__ import annotations

import json

import h5py
import mrcfile
import numpy as np
import pytest
import tifffile
from PIL import Image

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.io import SUPPORTED_SUFFIXES, read_image, read_mask

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_tiff_bit_depths(tmp_path, dtype):
    info = np.iinfo(dtype) if dtype != "float32" else None
    data = (RNG.integers(0, info.max, (12, 10)) if info else RNG.random((12, 10))).astype(dtype)
    tifffile.imwrite(tmp_path / "a.tif", data)
    image = read_image(tmp_path / "a.tif")
    assert image.original_dtype == dtype and image.format == "tiff"
    assert image.data.dtype == np.float32
    np.testing.assert_array_equal(image.data, data.astype(np.float32))
    assert image.pixel_size_A is None


def test_tiff_stack_and_frame(tmp_path):
    # 5 frames: tifffile would store a (3|4, H, W) array as one RGB(A) page
    stack = RNG.random((5, 12, 10)).astype(np.float32)
    tifffile.imwrite(tmp_path / "stack.tiff", stack)
    image = read_image(tmp_path / "stack.tiff")
    assert image.shape == (5, 12, 10) and image.n_frames == 5
    one = read_image(tmp_path / "stack.tiff", frame=2)
    np.testing.assert_array_equal(one.data, stack[2])
    assert one.metadata["frame_index"] == 2
    with pytest.raises(InvalidParameterError, match="frame 5 is out of range") as err:
        read_image(tmp_path / "stack.tiff", frame=5)
    assert "stack.tiff" in str(err.value)


@pytest.mark.parametrize("shaped", [True, False], ids=["tifffile-pages", "generic-pages"])
def test_tiff_pages_appended_one_by_one_form_a_stack(tmp_path, shaped):
    stack = RNG.random((3, 8, 9)).astype(np.float32)
    for frame in stack:
        extra = {} if shaped else {"metadata": None}
        tifffile.imwrite(tmp_path / "pages.tif", frame, append=True, **extra)
    np.testing.assert_array_equal(read_image(tmp_path / "pages.tif").data, stack)


def test_tiff_uppercase_suffix(tmp_path):
    tifffile.imwrite(tmp_path / "A.TIF", np.ones((4, 5), np.uint8))
    assert read_image(tmp_path / "A.TIF").shape == (4, 5)


@pytest.mark.parametrize("planar", ["contig", "separate"])
def test_rgb_tiff_becomes_gray(tmp_path, planar):
    rgb = np.zeros((6, 7, 3), np.uint8)
    rgb[..., 0] = 100
    rgb[..., 1] = 200
    data = rgb if planar == "contig" else np.moveaxis(rgb, -1, 0)
    tifffile.imwrite(tmp_path / "rgb.tif", data, photometric="rgb", planarconfig=planar)
    image = read_image(tmp_path / "rgb.tif")
    assert image.shape == (6, 7)
    np.testing.assert_allclose(image.data, 0.299 * 100 + 0.587 * 200, rtol=1e-6)


def test_gray_tiff_with_extra_samples_reads_samples_as_frames(tmp_path):
    data = RNG.random((6, 7, 2)).astype(np.float32)
    tifffile.imwrite(
        tmp_path / "two.tif",
        data,
        photometric="minisblack",
        planarconfig="contig",
        extrasamples=["unspecified"],
    )
    np.testing.assert_array_equal(read_image(tmp_path / "two.tif").data, np.moveaxis(data, -1, 0))


def test_imagej_calibration_is_read_when_unit_is_given(tmp_path):
    data = np.ones((6, 7), np.float32)
    # 2 px per micron -> 0.5 µm/px = 5000 Å/px
    tifffile.imwrite(
        tmp_path / "cal.tif", data, imagej=True, resolution=(2.0, 2.0), metadata={"unit": "micron"}
    )
    assert read_image(tmp_path / "cal.tif").pixel_size_A == pytest.approx(5000.0)
    # ImageJ file without a unit, and a plain 72 dpi TIFF: no calibration
    tifffile.imwrite(tmp_path / "nounit.tif", data, imagej=True, resolution=(2.0, 2.0))
    assert read_image(tmp_path / "nounit.tif").pixel_size_A is None
    tifffile.imwrite(tmp_path / "dpi.tif", data, resolution=(72, 72), resolutionunit="INCH")
    assert read_image(tmp_path / "dpi.tif").pixel_size_A is None


@pytest.mark.parametrize(
    "mode,array",
    [
        ("L", RNG.integers(0, 256, (9, 11)).astype(np.uint8)),
        ("I;16", RNG.integers(0, 65536, (9, 11)).astype(np.uint16)),
    ],
)
def test_png_gray(tmp_path, mode, array):
    Image.fromarray(array).save(tmp_path / "g.png")
    image = read_image(tmp_path / "g.png")
    assert image.original_dtype == array.dtype.name and image.format == "png"
    np.testing.assert_array_equal(image.data, array.astype(np.float32))


def test_png_rgb_and_palette_become_gray(tmp_path):
    rgb = np.zeros((5, 6, 3), np.uint8)
    rgb[..., 2] = 255
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    Image.fromarray(rgb).convert("P").save(tmp_path / "pal.png")
    for name in ("rgb.png", "pal.png"):
        image = read_image(tmp_path / name)
        assert image.shape == (5, 6)
        np.testing.assert_allclose(image.data, 0.114 * 255, rtol=1e-5)


def test_npy_float64_and_singleton_axis(tmp_path):
    data = RNG.random((1, 8, 9))
    np.save(tmp_path / "a.npy", data)
    image = read_image(tmp_path / "a.npy")
    assert image.shape == (8, 9) and image.original_dtype == "float64"
    np.testing.assert_allclose(image.data, data[0].astype(np.float32))


def test_mrc_pixel_size_and_stack(tmp_path):
    stack = RNG.random((3, 8, 9)).astype(np.float32)
    with mrcfile.new(tmp_path / "s.mrcs") as mrc:
        mrc.set_data(stack)
        mrc.set_image_stack()
        mrc.voxel_size = 1.25
    image = read_image(tmp_path / "s.mrcs")
    assert image.shape == (3, 8, 9) and image.format == "mrc"
    assert image.pixel_size_A == pytest.approx(1.25)
    np.testing.assert_array_equal(image.data, stack)
    with mrcfile.new(tmp_path / "u.mrc") as mrc:
        mrc.set_data(np.ones((8, 9), np.int16))
    uncalibrated = read_image(tmp_path / "u.mrc")
    assert uncalibrated.pixel_size_A is None and uncalibrated.original_dtype == "int16"


def test_berkeley_emd(tmp_path):
    """EMD v0.2 as rsciio reads it: stored x-first, dim1 = x (HyperSpy layout)."""
    image = np.arange(20 * 30, dtype=np.float32).reshape(20, 30)
    with h5py.File(tmp_path / "b.emd", "w") as f:
        f.attrs["version_major"] = 0
        f.attrs["version_minor"] = 2
        group = f.create_group("data/haadf")
        group.attrs["emd_group_type"] = 1
        group.create_dataset("data", data=image.T)
        for key, name, size in (("dim1", "x", 30), ("dim2", "y", 20)):
            dim = group.create_dataset(key, data=np.arange(size) * 0.05)
            dim.attrs["name"] = name
            dim.attrs["units"] = "[n_m]"
    emd = read_image(tmp_path / "b.emd")
    assert emd.format == "emd"
    assert emd.pixel_size_A == pytest.approx(0.5)
    np.testing.assert_array_equal(emd.data, image)


def test_plain_hdf5_single_dataset_with_json_metadata(tmp_path):
    data = RNG.random((8, 9)).astype(np.float32)
    with h5py.File(tmp_path / "p.h5", "w") as f:
        f.create_dataset("group/image_data", data=data)
        f.create_dataset("metadata", data=json.dumps({"acc voltage": 60.0}))
    image = read_image(tmp_path / "p.h5")
    assert image.format == "hdf5" and image.pixel_size_A is None
    assert image.metadata["dataset"] == "group/image_data"
    assert image.metadata["hdf5_text"]["metadata"] == {"acc voltage": 60.0}
    np.testing.assert_array_equal(image.data, data)


def test_read_mask_rejects_overlapping_channels(tmp_path):
    rgb = np.zeros((6, 7, 3), np.uint8)
    rgb[0, 0] = (255, 255, 0)
    tifffile.imwrite(tmp_path / "m.tif", rgb, photometric="rgb")
    with pytest.raises(InvalidImageError, match="1 pixels set in more than one colour channel"):
        read_mask(tmp_path / "m.tif")


def test_supported_suffixes():
    assert {
        ".tif",
        ".tiff",
        ".png",
        ".npy",
        ".mrc",
        ".dm3",
        ".dm4",
        ".emd",
        ".ser",
        ".hspy",
        ".hdf5",
        ".h5",
    } <= set(SUPPORTED_SUFFIXES)


FEI_INI = "[User]\nDate=12/06/2026\n[Beam]\nHV=30000\n[Scan]\nPixelWidth={width}\nPixelHeight={height}\n"


def test_a_vendor_tiff_without_imagej_tags_gets_its_calibration_from_rosettasciio(tmp_path: Path) -> None:
    path = tmp_path / "fei.tif"  # FEI/Thermo SEM and Helios write the pixel size in metres, in tag 34682
    tifffile.imwrite(path, np.random.default_rng(0).random((48, 64)).astype(np.float32),
                     extratags=[(34682, "s", 0, FEI_INI.format(width=2.5e-10, height=2.5e-10), True)])
    image = read_image(path)
    assert image.pixel_size_A == pytest.approx(2.5) and image.metadata["calibration_source"] == "vendor (rosettasciio)"


def test_a_vendor_tiff_whose_metadata_has_no_length_is_read_uncalibrated(tmp_path: Path) -> None:
    path = tmp_path / "fei.tif"
    tifffile.imwrite(path, np.ones((16, 16), np.float32),
                     extratags=[(34682, "s", 0, "[User]\nDate=12/06/2026\n", True)])
    image = read_image(path)
    assert image.pixel_size_A is None and image.data.shape == (16, 16)
