"""PNGs a microscopist can check a result with at a glance.

The micrograph is shown in grey on its robust (0.5..99.5 percentile) range, so a
few hot pixels do not wash it out; the mask is tinted translucently and its
outline drawn solid, so the particle edge stays visible under the tint. A model's
input and output side by side make a model package's cover.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.segmentation import find_boundaries
from skimage.transform import downscale_local_mean

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


def side_by_side_png(left: np.ndarray, right: np.ndarray, *, max_side_px: int = 256) -> bytes:
    """Two ``(H, W)`` images of one shape side by side in grey, each on its own robust range, as
    PNG bytes: two square images make the 2:1 picture BioImage.IO asks of a cover. Images larger
    than ``max_side_px`` are averaged down by a whole factor (a cover stays small)."""
    if left.ndim != 2 or left.shape != right.shape:
        raise InvalidImageError(f"side by side needs two 2-D images of one shape, got {left.shape} and {right.shape}")
    factor = -(-max(left.shape) // max_side_px)
    height, width = (size - size % factor for size in left.shape)  # whole blocks only: no zero-padded edge
    panels = [_to_uint8(downscale_local_mean(np.asarray(image, dtype=np.float32)[:height, :width], (factor, factor)))
              for image in (left, right)]
    buffer = io.BytesIO()
    Image.fromarray(np.concatenate(panels, axis=1)).save(buffer, format="PNG")
    return buffer.getvalue()


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if float(array.max()) <= float(array.min()):
        return np.zeros(array.shape, dtype=np.uint8)
    lo, hi = display_range(array)
    return np.clip(np.round((array - lo) * (255.0 / (hi - lo))), 0, 255).astype(np.uint8)
