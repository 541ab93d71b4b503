"""A PNG a microscopist can check a segmentation with at a glance.

The micrograph is shown in grey on its robust (0.5..99.5 percentile) range, so a
few hot pixels do not wash it out; the mask is tinted translucently and its
outline drawn solid, so the particle edge stays visible under the tint.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.segmentation import find_boundaries

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.image import EMImage
from dosewise.io import atomic_write
from dosewise.report.style import display_range


def overlay_png(
    path: str | Path,
    image: EMImage | np.ndarray,
    mask: np.ndarray,
    *,
    colour: tuple[int, int, int] = (255, 96, 0),
    alpha: float = 0.35,
    inputs: Iterable[str | Path] = (),
) -> Path:
    """Write ``image`` in grey with ``mask`` tinted (``colour``, ``alpha``) and outlined, as PNG."""
    array = np.asarray(image.data if isinstance(image, EMImage) else image, dtype=np.float32)
    mask = np.asarray(mask, dtype=bool)
    if array.ndim != 2 or mask.shape != array.shape:
        raise InvalidImageError(
            "overlay needs a 2-D image and a mask of the same shape, "
            f"got {array.shape} and {mask.shape}"
        )
    if not 0.0 <= alpha <= 1.0:
        raise InvalidParameterError(f"overlay alpha must be in [0, 1], got {alpha}")
    grey = _to_uint8(array).astype(np.float32)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    tint = np.asarray(colour, dtype=np.float32)
    rgb[mask] = (1.0 - alpha) * rgb[mask] + alpha * tint
    rgb[find_boundaries(mask, mode="inner")] = tint
    with atomic_write(path, inputs=inputs) as tmp:
        Image.fromarray(np.round(rgb).astype(np.uint8)).save(tmp, format="PNG")
    return Path(path)


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if float(array.max()) <= float(array.min()):
        return np.zeros(array.shape, dtype=np.uint8)
    lo, hi = display_range(array)
    return np.clip(np.round((array - lo) * (255.0 / (hi - lo))), 0, 255).astype(np.uint8)
