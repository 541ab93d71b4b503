"""One gate for every array that enters dosewise as an image.

Readers, the CLI and the Python API all pass arrays through
:func:`validate_image`, so an empty, 1-pixel, NaN-filled or 4-D input fails early
with a message naming the file instead of deep inside an FFT or a network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dosewise.errors import InvalidImageError

_REAL_KINDS = "biuf"  # bool, signed int, unsigned int, float


def validate_image(data: np.ndarray, path: str | Path | None) -> np.ndarray:
    """Check ``data`` is a usable image or stack; return it squeezed, as float32.

    Singleton axes are removed first (``(1, H, W)`` and ``(H, W, 1)`` are plain
    images); what remains must be ``(H, W)`` or ``(N, H, W)`` with at least two
    pixels along each spatial axis and only finite real values.
    """
    data = np.asarray(data)
    if data.dtype.kind not in _REAL_KINDS:
        raise InvalidImageError(f"data type {data.dtype} is not a real number type", path)
    if data.size == 0:
        raise InvalidImageError(f"image is empty (shape {data.shape})", path)
    if data.ndim < 2:
        raise InvalidImageError(
            f"must be a 2-D image or a 3-D stack, got {data.ndim}-D shape {data.shape}", path
        )
    squeezed = np.squeeze(data)
    if squeezed.ndim < 2:
        raise InvalidImageError(
            f"has fewer than 2 pixels along a spatial axis (shape {data.shape})", path
        )
    if squeezed.ndim > 3:
        raise InvalidImageError(
            f"must be a 2-D image or a 3-D stack after removing singleton axes, "
            f"got shape {data.shape}",
            path,
        )
    if data.dtype.kind == "f":
        n_bad = int(np.count_nonzero(~np.isfinite(squeezed)))
        if n_bad:
            raise InvalidImageError(f"contains {n_bad} NaN/inf values", path)
    with np.errstate(over="ignore"):  # overflow is reported below, as an error
        out = squeezed.astype(np.float32, copy=False)
    if data.dtype.itemsize > 4 and not np.isfinite(out).all():
        raise InvalidImageError("has values beyond the float32 range", path)
    return out
