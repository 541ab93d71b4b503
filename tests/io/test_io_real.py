"""Every reader on its real sample file from ../shared/data/real (see PROVENANCE.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dosewise.io import read_image, read_mask

# (file, shape, original dtype, format, pixel size Å/px or None, min, max)
REAL_FILES = [
    ("stem/dlssstem__img.dm3", (256, 256), "uint32", "dm3", 1.312, 361071, 2200700),
    ("stem/ncempy__After_HAADF_130mm_1.ser", (1024, 1024), "uint16", "ser", 32.704, 73, 4713),
    # HyperSpy file stores a scale (0.0093263) without units: treated as uncalibrated.
    ("stem/atomap__test_ADF_cropped.hdf5", (400, 380), "float16", "hspy", None, 901.5, 4428),
    ("stem/atomap__test_ABF_cropped.hdf5", (400, 380), "float16", "hspy", None, 1034, 4688),
    (
        "stem/aicrystallographer__G-GrainBoundary-4nm.hdf5",
        (512, 512),
        "float32",
        "hdf5",
        None,
        -0.00234375,
        0.22054,
    ),
    (
        "stem/aicrystallographer__G-dimSi.hdf5",
        (512, 512),
        "float32",
        "hdf5",
        None,
        -0.00111231,
        0.458437,
    ),
    ("stem/atomsegnet__03_afterimage_8nm_crp.png", (730, 730), "uint8", "png", None, 0, 255),
    ("stem/partialstem__truth-1.tif", (512, 512), "float32", "tiff", None, 0, 1),
    (
        "lowdose_tem/katsuno_LDE__train_0001__exposureA.tif",
        (512, 512),
        "uint16",
        "tiff",
        None,
        0,
        1080,
    ),
    (
        "lowdose_tem/katsuno_LDE__train_0002__exposureB.tif",
        (512, 512),
        "uint16",
        "tiff",
        None,
        0,
        1232,
    ),
    (
        "np_segmentation/ardagen_Pt-alumina__train_20004_p01__image.tif",
        (512, 512),
        "uint8",
        "tiff",
        None,
        0,
        255,
    ),
    (
        "np_segmentation/chenlab_patchy-nanoprism__2.5-50__image.tif",
        (512, 512),
        "uint8",
        "tiff",
        None,
        0,
        239,
    ),
    ("cellular_em/isbi2012__slice_25__image.png", (512, 512), "uint8", "png", None, 0, 255),
    (
        "cellular_em/empanada__instance_ins_seg__image.tiff",
        (256, 256),
        "uint8",
        "tiff",
        None,
        20,
        192,
    ),
]


@pytest.mark.parametrize(
    "name,shape,dtype,fmt,pixel_size_A,lo,hi", REAL_FILES, ids=[f[0] for f in REAL_FILES]
)
def test_real_file(real_data_dir, name, shape, dtype, fmt, pixel_size_A, lo, hi):
    image = read_image(real_data_dir / name)
    assert image.shape == shape
    assert image.data.dtype == np.float32
    assert image.original_dtype == dtype
    assert image.format == fmt
    assert image.source == real_data_dir / name
    if pixel_size_A is None:
        assert image.pixel_size_A is None
    else:
        assert image.pixel_size_A == pytest.approx(pixel_size_A, rel=1e-4)
    assert float(image.data.min()) == pytest.approx(lo, rel=1e-4, abs=1e-6)
    assert float(image.data.max()) == pytest.approx(hi, rel=1e-4, abs=1e-6)
    json.dumps(image.metadata)  # metadata must be JSON-serialisable


def test_vendor_metadata_is_kept(real_data_dir):
    dm3 = read_image(real_data_dir / "stem/dlssstem__img.dm3")
    tags = dm3.metadata["original_metadata"]["ImageList"]["TagGroup0"]["ImageTags"]
    assert tags["Microscope Info"]["Voltage"] == 200000.0
    assert dm3.metadata["axes"][1]["units"] == "nm"
    aicr = read_image(real_data_dir / "stem/aicrystallographer__G-GrainBoundary-4nm.hdf5")
    assert aicr.metadata["dataset"] == "image_data"
    assert aicr.metadata["hdf5_text"]["metadata"]["acc voltage"] == 60.0
    atomap = read_image(real_data_dir / "stem/atomap__test_ADF_cropped.hdf5")
    assert atomap.metadata["axes"][0]["scale"] == pytest.approx(0.0093263, rel=1e-4)


def test_rgb_mask_tiff_reads_as_gray_image_and_as_labels(real_data_dir):
    path = real_data_dir / "np_segmentation/chenlab_Au-tetrahedra__3-Au-tetra-2-30k-3-10__mask.tif"
    image = read_image(path)
    assert image.shape == (512, 512)
    assert image.metadata["gray_from_channels"] == 3
    labels = read_mask(path)
    assert labels.shape == (512, 512) and labels.dtype == np.int32
    # R = particles (1), G empty, B = second class (3)
    assert set(np.unique(labels)) == {0, 1, 3}
    nanoprism = read_mask(
        real_data_dir / "np_segmentation/chenlab_patchy-nanoprism__2.5-50__mask.tif"
    )
    assert set(np.unique(nanoprism)) == {0, 1, 2}


@pytest.mark.parametrize(
    "name,values",
    [
        ("np_segmentation/ardagen_Pt-alumina__train_20004_p01__mask.tif", {0, 1, 2}),
        ("cellular_em/isbi2012__slice_25__mask.png", {0, 255}),
    ],
)
def test_gray_masks_keep_their_values(real_data_dir, name, values):
    labels = read_mask(real_data_dir / name)
    assert labels.shape == (512, 512)
    assert set(np.unique(labels)) == values
