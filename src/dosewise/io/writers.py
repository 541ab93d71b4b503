"""Write images so that a crash never leaves a half-written file or a lost input.

Everything goes through :func:`atomic_write`: the data is written to a hidden
temporary file in the target directory and renamed over the target only when
complete (``os.replace`` is atomic on one filesystem). Paths that resolve to an
input file are refused, so ``dosewise denoise a.tif -o a.tif`` cannot destroy
the only copy of a micrograph. Inside :func:`output_group` the renames wait until
every file of the group is written, so a command's outputs appear together or not
at all.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from contextvars import ContextVar
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from enum import Enum
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from PIL import Image

from dosewise.errors import InvalidParameterError, OutputFileError
from dosewise.image import EMImage
from dosewise.io.messages import one_line_reason
from dosewise.io.metadata import jsonable
from dosewise.io.validate import validate_image

class OutputFormat(str, Enum):
    """The file a restoring command writes per input: ImageJ TIFF (calibration in nm, the
    provenance as JSON in ``Info``) or HyperSpy ``.hspy`` (axes, ``metadata``, ``original_metadata``)."""

    tif = "tif"
    hspy = "hspy"


WRITABLE_SUFFIXES: tuple[str, ...] = (".npy", ".png", ".tif", ".tiff", ".hspy")
TIFF_DTYPES: tuple[str, ...] = ("float32", "uint16")
PNG_PERCENTILES: tuple[float, float] = (0.5, 99.5)


_PENDING: ContextVar[list[tuple[Path, Path]] | None] = ContextVar("dosewise_pending_outputs", default=None)


@contextmanager
def output_group() -> Iterator[None]:
    """Hold back the final names of every :func:`atomic_write` inside the block until the block
    succeeds; on any error (or a kill) none of them appears, only hidden temporaries are lost.

    Why: a command writing an image, a mask and a table must not leave the image when the table
    fails. Nested groups join the outermost one."""
    if _PENDING.get() is not None:
        yield
        return
    pending: list[tuple[Path, Path]] = []
    token = _PENDING.set(pending)
    try:
        yield
        _PENDING.reset(token)
        for _, path in pending:  # what would stop a rename half-way, found before the first one
            if path.is_dir():
                raise OutputFileError("is a folder; cannot write the file here", path)
        for index, (tmp, path) in enumerate(pending):
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise OutputFileError(f"cannot write file: {one_line_reason(exc)}", path) from exc
            pending[index] = (path, path)
    finally:
        if _PENDING.get() is pending:
            _PENDING.reset(token)
        for tmp, path in pending:
            if tmp != path:
                tmp.unlink(missing_ok=True)


@contextmanager
def atomic_write(path: str | Path, *, inputs: Iterable[str | Path] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds.

    The temporary name ends in the real suffix, so writers that pick the format
    from the suffix (``np.save``, Pillow, matplotlib) behave as for ``path``. On
    any error the temporary file is removed and ``path`` is left untouched;
    OS errors (permissions, full disk) become :class:`OutputFileError`.
    """
    path = Path(path)
    _refuse_inputs(path, inputs)
    if not path.parent.is_dir():
        raise OutputFileError(f"directory {path.parent} does not exist", path)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")
    pending = _PENDING.get()
    try:
        yield tmp
        if pending is None:
            os.replace(tmp, path)
        else:
            pending.append((tmp, path))
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputFileError(f"cannot write file: {one_line_reason(exc)}", path) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_image(
    path: str | Path,
    data: np.ndarray | EMImage,
    *,
    dtype: str = "float32",
    inputs: Iterable[str | Path] = (),
    overwrite: bool = True,
    pixel_size_A: float | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write an image or stack by suffix; return the path written.

    - ``.tif``/``.tiff``: ImageJ-compatible TIFF, float32 (exact) or
      ``dtype="uint16"``, which maps the data's min..max linearly onto 0..65535
      for viewers without float support (absolute values are lost; a constant
      image becomes 0). ``pixel_size_A`` is stored as an ImageJ nm calibration.
    - ``.png``: 8-bit view of one 2-D image, the 0.5..99.5 percentile range mapped
      to 0..255 so a few hot pixels do not wash out the picture. For looking, not analysis.
    - ``.hspy``: a HyperSpy file (rosettasciio's writer; hyperspy itself not needed), float32,
      axes in nm when the pixel size is known.
    - ``.npy``: raw float32.

    An :class:`EMImage` brings its own pixel size unless ``pixel_size_A`` is given.
    ``metadata`` (:func:`dosewise.io.provenance`: the source file's metadata and the processing
    record) goes into the TIFF as JSON in ImageJ's ``Info`` property, and into an ``.hspy`` as its
    ``metadata`` (``General.title``, ``Processing.dosewise``) and ``original_metadata``.
    """
    path = Path(path)
    if isinstance(data, EMImage):
        pixel_size_A = data.pixel_size_A if pixel_size_A is None else pixel_size_A
        data = data.data
    suffix = path.suffix.lower()
    if suffix not in WRITABLE_SUFFIXES:
        shown = repr(path.suffix) if path.suffix else "(no suffix)"
        raise OutputFileError(
            f"unknown output type {shown}; writable: {', '.join(WRITABLE_SUFFIXES)}", path
        )
    is_tiff = suffix in (".tif", ".tiff")
    if dtype not in TIFF_DTYPES:
        raise InvalidParameterError(f"dtype must be one of {', '.join(TIFF_DTYPES)}, got {dtype!r}")
    if dtype != "float32" and not is_tiff:
        raise InvalidParameterError(f"dtype {dtype!r} applies to TIFF output only", path)
    if pixel_size_A is not None and not (math.isfinite(pixel_size_A) and pixel_size_A > 0):
        raise InvalidParameterError(f"pixel size must be > 0 Å/px, got {pixel_size_A}", path)
    if not overwrite and path.exists():
        raise OutputFileError("already exists (overwrite is off)", path)
    array = validate_image(data, path)
    if suffix == ".png" and array.ndim != 2:
        raise OutputFileError(
            f"PNG holds one 2-D image, got shape {array.shape}; write stacks as .tif or .npy", path
        )
    with atomic_write(path, inputs=inputs) as tmp:
        _WRITERS[suffix](tmp, array, dtype, pixel_size_A, jsonable(dict(metadata or {})))
    return path


def _refuse_inputs(path: Path, inputs: Iterable[str | Path]) -> None:
    target = path.resolve()
    for item in inputs:
        item = Path(item)
        same = item.resolve() == target or (
            target.exists() and item.exists() and os.path.samefile(item, target)
        )
        if same:
            raise OutputFileError(f"refusing to overwrite input file {item}", path)


def _write_tiff(tmp: Path, array: np.ndarray, dtype: str, pixel_size_A: float | None,
                metadata: dict[str, Any]) -> None:
    if dtype == "uint16":
        array = _scale_to_uint16(array)
    imagej: dict[str, Any] = {"axes": "YX" if array.ndim == 2 else "ZYX"}
    resolution = None
    if pixel_size_A is not None:
        px_per_nm = 10.0 / pixel_size_A
        resolution = (px_per_nm, px_per_nm)
        imagej["unit"] = "nm"
    if metadata:
        imagej["Info"] = json.dumps(metadata)  # ImageJ shows it in Image > Show Info
    tifffile.imwrite(tmp, array, imagej=True, resolution=resolution, metadata=imagej)


def _write_hspy(tmp: Path, array: np.ndarray, dtype: str, pixel_size_A: float | None,
                metadata: dict[str, Any]) -> None:
    from rsciio.hspy import file_writer

    scale, units = (pixel_size_A / 10.0, "nm") if pixel_size_A is not None else (1.0, "<undefined>")
    axes = [{"name": name, "units": units, "scale": scale, "offset": 0.0, "size": size, "navigate": False}
            for name, size in zip(("y", "x"), array.shape[-2:])]
    if array.ndim == 3:
        axes.insert(0, {"name": "frame", "units": "<undefined>", "scale": 1.0, "offset": 0.0,
                        "size": array.shape[0], "navigate": True})
    signal_metadata = dict(metadata.get("signal_metadata") or {})
    signal_metadata.setdefault("General", {})["title"] = metadata.get("title") or signal_metadata.get(
        "General", {}).get("title", "")
    signal_metadata.setdefault("Signal", {}).setdefault("signal_type", "")
    if metadata.get("processing"):
        signal_metadata.setdefault("Processing", {})["dosewise"] = metadata["processing"]
    file_writer(str(tmp), {
        "data": array.astype(np.float32, copy=False), "axes": axes, "metadata": signal_metadata,
        "original_metadata": metadata.get("original_metadata") or {}, "attributes": {"_lazy": False},
        "tmp_parameters": {}, "learning_results": {}, "models": {},
        "package_info": {"name": "dosewise", "version": version("dosewise")},
    }, show_progressbar=False)


def _write_png(tmp: Path, array: np.ndarray, dtype: str, pixel_size_A: float | None,
               metadata: dict[str, Any]) -> None:
    Image.fromarray(_scale_to_uint8_view(array)).save(tmp, format="PNG")


def _write_npy(tmp: Path, array: np.ndarray, dtype: str, pixel_size_A: float | None,
               metadata: dict[str, Any]) -> None:
    np.save(tmp, array.astype(np.float32, copy=False))


def _scale_to_uint16(array: np.ndarray) -> np.ndarray:
    lo, hi = float(array.min()), float(array.max())
    if hi <= lo:
        return np.zeros(array.shape, dtype=np.uint16)
    scaled = (array.astype(np.float64) - lo) * (65535.0 / (hi - lo))
    return np.round(scaled).astype(np.uint16)


def _scale_to_uint8_view(array: np.ndarray) -> np.ndarray:
    lo, hi = (float(v) for v in np.percentile(array, PNG_PERCENTILES))
    if hi <= lo:  # mostly-constant image: fall back to the full range
        lo, hi = float(array.min()), float(array.max())
    if hi <= lo:
        return np.zeros(array.shape, dtype=np.uint8)
    scaled = (array.astype(np.float64) - lo) * (255.0 / (hi - lo))
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


_WRITERS: dict[str, Callable[[Path, np.ndarray, str, float | None, dict[str, Any]], None]] = {
    ".hspy": _write_hspy,
    ".npy": _write_npy,
    ".png": _write_png,
    ".tif": _write_tiff,
    ".tiff": _write_tiff,
}
