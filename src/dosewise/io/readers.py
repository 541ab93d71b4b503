"""Read any supported micrograph file into an :class:`~dosewise.image.EMImage`.

The format is chosen by suffix; every reader returns a :class:`RawImage` in the
file's dtype, and one shared path here converts colour to gray, validates,
converts to float32 and turns any reader failure into a one-line
:class:`~dosewise.errors.InputFileError` that names the file and the format.
"""

from __future__ import annotations

import json

from collections.abc import Callable
from pathlib import Path

import mrcfile
import numpy as np
import tifffile
from PIL import Image

from dosewise.errors import DosewiseError, InputFileError, InvalidImageError, InvalidParameterError
from dosewise.image import EMImage
from dosewise.io.calibration import length_to_A, pixel_sizes_from_axes, square_pixel_A
from dosewise.io.messages import one_line_reason
from dosewise.io.metadata import jsonable
from dosewise.io.raw import RawImage
from dosewise.io.validate import validate_image
from dosewise.io.vendor import RSCIIO_PLUGINS, is_hyperspy_hdf5, read_hdf5, read_rsciio
from dosewise.io.vendor import list_signals as list_vendor_signals

FORMAT_BY_SUFFIX: dict[str, str] = {
    ".tif": "tiff",
    ".tiff": "tiff",
    ".png": "png",
    ".npy": "npy",
    ".mrc": "mrc",
    ".mrcs": "mrc",
    ".dm3": "dm3",
    ".dm4": "dm4",
    ".emd": "emd",
    ".ser": "ser",
    ".emi": "ser",
    ".hspy": "hspy",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(sorted(FORMAT_BY_SUFFIX))

_LUMA_BT601 = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def read_image(path: str | Path, *, frame: int | None = None, signal: str | int | None = None) -> EMImage:
    """Read a micrograph or stack as float32 with its pixel size (Å/px) when the file has one.

    Colour images (RGB(A)) become gray by BT.601 luminance; use :func:`read_mask`
    for masks that keep classes in separate channels. ``frame`` picks one frame
    of a stack (0-based); a 2-D image has the single frame 0. ``signal`` picks one signal
    of a file that holds several (EMD, DM, SER, HSPY: its index or title, see
    :func:`list_signals`); by default the first image signal.
    """
    path = Path(path)
    raw = _load(path, signal)
    data = _to_gray(raw.data) if raw.channels_last else raw.data
    data = validate_image(data, path)
    metadata = dict(raw.metadata)
    if raw.channels_last:
        metadata["gray_from_channels"] = int(raw.data.shape[-1])
    if frame is not None:
        data = _select_frame(data, frame, path)
        metadata["frame_index"] = frame
    return EMImage(
        data=data,
        pixel_size_A=raw.pixel_size_A,
        source=path,
        original_dtype=raw.data.dtype.name,
        format=raw.format or FORMAT_BY_SUFFIX[path.suffix.lower()],
        metadata=metadata,
    )


def read_mask(path: str | Path) -> np.ndarray:
    """Read a segmentation mask as an int32 label map.

    Gray masks keep their values (0/255, class ids 0..2, instance ids). Colour
    masks that hold one class per channel (R, G, B) become 0 = background and
    1/2/3 = channel index + 1; a pixel set in two channels has no single label
    and is rejected. Alpha is ignored.
    """
    path = Path(path)
    raw = _load(path)
    labels = raw.data
    if raw.channels_last:
        on = labels[..., :3] > 0
        n_overlap = int(np.count_nonzero(on.sum(axis=-1) > 1))
        if n_overlap:
            raise InvalidImageError(
                f"mask has {n_overlap} pixels set in more than one colour channel", path
            )
        labels = np.where(on.any(axis=-1), on.argmax(axis=-1) + 1, 0)
    validate_image(labels, path)
    labels = np.squeeze(labels)
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
        raise InvalidImageError("mask has non-integer values", path)
    return labels.astype(np.int32)


def list_signals(path: str | Path) -> list[dict[str, object]]:
    """Every signal of a vendor file (index, title, kind, shape); one image for other formats."""
    path = Path(path)
    fmt = _format_of(path)
    if fmt in RSCIIO_PLUGINS or (fmt == "hdf5" and is_hyperspy_hdf5(path)):
        try:
            return list_vendor_signals(path, "hspy" if fmt == "hdf5" else fmt)
        except DosewiseError:
            raise
        except Exception as exc:
            raise InputFileError(f"cannot read {fmt} file: {one_line_reason(exc)}", path) from exc
    image = read_image(path)
    return [{"index": 0, "title": path.stem, "kind": "image" if image.n_frames == 1 else "image stack",
             "shape": list(image.shape)}]


def _format_of(path: Path) -> str:
    if not path.exists():
        raise InputFileError("file not found", path)
    if not path.is_file():
        raise InputFileError("is not a file", path)
    fmt = FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        suffix = repr(path.suffix) if path.suffix else "(no suffix)"
        raise InputFileError(
            f"unknown file type {suffix}; supported: {', '.join(SUPPORTED_SUFFIXES)}", path
        )
    return fmt


def _load(path: Path, signal: str | int | None = None) -> RawImage:
    fmt = _format_of(path)
    if signal is not None and fmt not in RSCIIO_PLUGINS and fmt != "hdf5":
        raise InvalidParameterError(f"--signal applies to files of several signals (DM3/DM4, EMD, SER, "
                                    f"HSPY); a {fmt} file holds one image", path)
    try:
        if fmt in RSCIIO_PLUGINS:
            return read_rsciio(path, fmt, signal)
        if fmt == "hdf5":
            return read_hdf5(path, signal)
        return _READERS[fmt](path)
    except DosewiseError:
        raise
    except Exception as exc:  # any reader failure is a bad input file, reported in one line
        short = _tiff_truncation(path) if fmt == "tiff" else None
        if short is not None:
            raise InputFileError(short, path) from exc
        raise InputFileError(f"cannot read {fmt} file: {one_line_reason(exc)}", path) from exc


def _to_gray(data: np.ndarray) -> np.ndarray:
    """BT.601 luminance of RGB(A); the first channel of gray+alpha."""
    if data.shape[-1] >= 3:
        return data[..., :3].astype(np.float32) @ _LUMA_BT601
    return data[..., 0]


def _select_frame(data: np.ndarray, frame: int, path: Path) -> np.ndarray:
    n_frames = 1 if data.ndim == 2 else data.shape[0]
    if not 0 <= frame < n_frames:
        raise InvalidParameterError(
            f"frame {frame} is out of range: the file holds {n_frames} frame(s), 0..{n_frames - 1}",
            path,
        )
    return data if data.ndim == 2 else data[frame]


def _read_tiff(path: Path) -> RawImage:
    """First TIFF series; several series of one shape (pages appended one by one
    by tifffile) are stacked into frames. Only RGB pages count as colour."""
    with tifffile.TiffFile(path) as tif:
        series = tif.series
        if not series:
            raise ValueError("no readable image in the file (truncated?)")
        first = series[0]
        if len(series) > 1 and all(
            (s.shape, s.dtype, s.axes) == (first.shape, first.dtype, first.axes) for s in series
        ):
            data = np.stack([s.asarray() for s in series])
            axes = "I" + first.axes
        else:
            data = first.asarray()
            axes = first.axes
        is_rgb = first.keyframe.photometric == tifffile.PHOTOMETRIC.RGB
        sizes_yx_A = _imagej_pixel_sizes_A(tif)
        calibration_source = "imagej" if sizes_yx_A is not None else None
        if sizes_yx_A is None and VENDOR_TIFF_FLAGS & set(tif.flags):
            sizes_yx_A = _vendor_tiff_pixel_sizes_A(path)
            calibration_source = "vendor (rosettasciio)" if sizes_yx_A is not None else None
        pixel_size_A = square_pixel_A(sizes_yx_A)
        metadata = {"tiff_axes": axes, "n_pages": len(tif.pages), "n_series": len(series)}
        if calibration_source is not None:
            metadata["calibration_source"] = calibration_source
        if sizes_yx_A is not None:
            metadata["pixel_size_yx_A"] = list(sizes_yx_A)
        if tif.imagej_metadata:
            metadata["imagej"] = jsonable(tif.imagej_metadata)
            metadata.update(_dosewise_provenance(tif.imagej_metadata.get("Info")))
    if "S" in axes:  # samples of a gray (min-is-black) page are frames, not colours
        data = np.moveaxis(data, axes.index("S"), -1 if is_rgb else 0)
    return RawImage(data, pixel_size_A, metadata, channels_last="S" in axes and is_rgb)


VENDOR_TIFF_FLAGS = frozenset({"fei", "sem", "olympus", "sis", "nih", "scn", "philips"})
"""tifffile's flags of microscope vendors' TIFF metadata (FEI/Thermo, Zeiss SEM, Olympus SIS, ...)
whose pixel size rosettasciio knows how to read when the file carries no ImageJ calibration."""


def _vendor_tiff_pixel_sizes_A(path: Path) -> tuple[float, float] | None:
    """(y, x) Å/px from a vendor TIFF's own metadata through rosettasciio's TIFF reader; ``None``
    when it finds no length calibration (a vendor file is still read, uncalibrated)."""
    try:
        from rsciio.tiff import file_reader

        axes = file_reader(str(path), lazy=True)[0]["axes"]
    except Exception:  # rosettasciio cannot make sense of the tags: the image itself is fine
        return None
    return pixel_sizes_from_axes(axes) if len(axes) >= 2 else None


def _tiff_truncation(path: Path) -> str | None:
    """Why a TIFF whose pixel data runs past the end of the file cannot be read, in the user's
    terms (an interrupted copy or download), or None when that is not what went wrong."""
    try:
        size = path.stat().st_size
        with tifffile.TiffFile(path) as tif:
            blocks = [(offset, count) for page in tif.pages
                      for offset, count in zip(page.dataoffsets, page.databytecounts)]
    except Exception:  # the header itself is unreadable: the reader's own reason says more
        return None
    expected = sum(count for _, count in blocks)
    present = sum(max(0, min(offset + count, size) - offset) for offset, count in blocks)
    if present >= expected:
        return None
    return f"truncated or damaged TIFF (expected {expected} bytes of pixel data, file has {present})"


def _dosewise_provenance(info: object) -> dict[str, object]:
    """What a TIFF written by dosewise carries in ImageJ's ``Info`` (the source's metadata and
    the processing steps), so that the next step appends to the record instead of starting one."""
    try:
        carried = json.loads(info) if isinstance(info, str) else None
    except ValueError:
        return {}
    if not isinstance(carried, dict) or not isinstance(carried.get("processing"), list):
        return {}
    return {key: carried[key] for key in ("title", "signal_metadata", "original_metadata", "processing")
            if key in carried}


def _imagej_pixel_sizes_A(tif: tifffile.TiffFile) -> tuple[float, float] | None:
    """ImageJ names the unit of XResolution (pixels per unit). Plain TIFF resolution
    is a print DPI (72 px/inch on most of our files), not a sample calibration."""
    unit = (tif.imagej_metadata or {}).get("unit")
    tags = tif.pages.first.tags
    if unit is None or "XResolution" not in tags or "YResolution" not in tags:
        return None
    sizes = []
    for name in ("XResolution", "YResolution"):
        px_per_unit, denominator = tags[name].value
        if px_per_unit == 0:
            return None
        sizes.append(length_to_A(denominator / px_per_unit, unit))
    if sizes[0] is None or sizes[1] is None:
        return None
    return sizes[1], sizes[0]  # (y, x): XResolution first


_PNG_NATIVE_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F", "RGB", "RGBA"}


def _read_png(path: Path) -> RawImage:
    with Image.open(path, formats=["PNG"]) as im:
        mode = im.mode
        if mode not in _PNG_NATIVE_MODES:  # palette and other modes: expand to colour first
            im = im.convert("RGBA")
        data = np.asarray(im)
    return RawImage(data, None, {"png_mode": mode}, channels_last=data.ndim == 3)


def _read_npy(path: Path) -> RawImage:
    data = np.load(path, allow_pickle=False)
    if not isinstance(data, np.ndarray):
        raise ValueError("not a single-array .npy file")
    return RawImage(data)


def _read_mrc(path: Path) -> RawImage:
    with mrcfile.open(path, mode="r", permissive=False) as mrc:
        data = np.array(mrc.data)
        voxel_A = [float(mrc.voxel_size.x), float(mrc.voxel_size.y), float(mrc.voxel_size.z)]
        space_group = int(mrc.header.ispg)
    calibrated = voxel_A[0] > 0 and np.isclose(voxel_A[0], voxel_A[1], rtol=1e-4)
    return RawImage(
        data,
        voxel_A[0] if calibrated else None,
        {"voxel_size_A": voxel_A, "space_group": space_group},
    )


_READERS: dict[str, Callable[[Path], RawImage]] = {
    "tiff": _read_tiff,
    "png": _read_png,
    "npy": _read_npy,
    "mrc": _read_mrc,
}
"""Single-image formats; vendor formats (``RSCIIO_PLUGINS``) and HDF5 take a signal choice."""
