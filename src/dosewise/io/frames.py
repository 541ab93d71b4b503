"""Frames of a multi-frame file, one at a time where the format allows.

A long stack (TIFF pages, memory-mapped NPY/MRC) starts streaming at once and one bad
frame does not spoil the rest; vendor series (DM3/DM4, EMD, SER, HSPY) are read whole
but validated frame by frame; anything else goes through :func:`read_image`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import mrcfile
import numpy as np
import tifffile

from dosewise.errors import DosewiseError, InputFileError, InvalidImageError
from dosewise.io.calibration import square_pixel_A
from dosewise.io.messages import one_line_reason
from dosewise.io.readers import SUPPORTED_SUFFIXES, _imagej_pixel_sizes_A, read_image
from dosewise.io.validate import validate_image
from dosewise.io.vendor import read_rsciio

_VENDOR_FORMATS = {".dm3": "dm3", ".dm4": "dm4", ".emd": "emd", ".ser": "ser", ".emi": "ser",
                   ".hspy": "hspy"}


def open_frames(path: Path) -> tuple[int, Callable[[int], np.ndarray], float | None]:
    """``(n_frames, frame(i) -> raw array, pixel size in Å)`` for any readable file.

    TIFF pages are read one by one and NPY/MRC stacks memory-mapped, so a long
    stack starts streaming at once and one bad frame does not spoil the rest;
    vendor series are read whole but validated frame by frame.
    """
    if not path.is_file():
        raise InputFileError("file not found" if not path.exists() else "is not a file", path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputFileError(
            f"unknown file type {suffix or '(no suffix)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}",
            path,
        )
    try:
        if suffix in (".tif", ".tiff"):
            lazy = _tiff_frames(path)
            if lazy is not None:
                return lazy
        elif suffix == ".npy":
            return _array_frames(np.load(path, mmap_mode="r", allow_pickle=False), None)
        elif suffix in (".mrc", ".mrcs"):
            mrc = mrcfile.mmap(path, mode="r", permissive=False)
            voxel = float(mrc.voxel_size.x)
            return _array_frames(mrc.data, voxel if voxel > 0 else None)
        elif suffix in _VENDOR_FORMATS:
            raw = read_rsciio(path, _VENDOR_FORMATS[suffix])
            return _array_frames(raw.data, raw.pixel_size_A)
    except DosewiseError:
        raise
    except Exception as exc:
        raise InputFileError(f"cannot read frames: {one_line_reason(exc)}", path) from exc
    image = read_image(path)  # anything else: whole, validated (PNG, HDF5, RGB TIFF, ...)
    return _array_frames(image.data, image.pixel_size_A)


def _array_frames(
    data: np.ndarray, pixel_size_A: float | None
) -> tuple[int, Callable[[int], np.ndarray], float | None]:
    if data.ndim < 2:
        raise InvalidImageError(f"must be a 2-D image or a stack of them, got shape {data.shape}")
    if data.ndim == 2:
        return 1, lambda index: data, pixel_size_A
    # Leading axes are frames (a series of (T, H, W), or (T, Z, H, W) flattened).
    frames = data.reshape(-1, *data.shape[-2:])
    return len(frames), lambda index: frames[index], pixel_size_A


def _tiff_frames(path: Path) -> tuple[int, Callable[[int], np.ndarray], float | None] | None:
    """Page-by-page access to a gray TIFF stack; ``None`` for layouts read whole."""
    tif = tifffile.TiffFile(path)
    series = tif.series
    if not series:
        raise InputFileError("no readable image in the file (truncated?)", path)
    first = series[0]
    if first.keyframe.photometric == tifffile.PHOTOMETRIC.RGB or first.keyframe.samplesperpixel > 1:
        return None
    try:
        pixel_size_A = square_pixel_A(_imagej_pixel_sizes_A(tif))
    except Exception:
        pixel_size_A = None
    if len(series) > 1 and all((s.shape, s.dtype) == (first.shape, first.dtype) for s in series):
        return len(series), lambda index: series[index].asarray(), pixel_size_A
    if len(series) > 1:
        return None
    n_pages = int(np.prod(first.shape[:-2])) if len(first.shape) > 2 else 1
    return n_pages, lambda index: tif.asarray(key=index, series=0), pixel_size_A


def frame_2d(raw: np.ndarray) -> np.ndarray:
    """One frame as a validated float32 ``(H, W)`` array; a bad frame is one
    :class:`InvalidImageError` line without a file name (the caller names the frame)."""
    try:
        frame = validate_image(np.asarray(raw), None)
    except InvalidImageError as error:
        raise InvalidImageError(error.problem) from None
    if frame.ndim != 2:
        raise InvalidImageError(f"wrong shape {tuple(np.shape(raw))}: a frame must be 2-D")
    return frame
