"""Segmentation label: the convex hull of the particle's projected atoms (seed 003, Methods §2)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull
from skimage.draw import polygon

from dosewise.errors import InvalidParameterError


def hull_mask(
    xy_A: np.ndarray, pixel_size_A: float, shape: tuple[int, int], *, origin_A: float = 0.0
) -> tuple[np.ndarray, float]:
    """(uint8 mask, geometric hull area in px) of the convex hull of ``xy_A`` (N x 2, Å).

    Pixel ``[row, col]`` is inside when its centre, at
    (x, y) = (origin_A + col * pixel_size_A, origin_A + row * pixel_size_A), lies in
    the hull. The area is returned so callers can check the rasterisation against it.
    """
    points = np.asarray(xy_A, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 3:
        raise InvalidParameterError(f"need at least 3 projected (x, y) positions, got shape {points.shape}")
    hull = ConvexHull(points)
    vertices = (points[hull.vertices] - origin_A) / pixel_size_A
    rows, cols = polygon(vertices[:, 1], vertices[:, 0], shape=shape)
    mask = np.zeros(shape, dtype=np.uint8)
    mask[rows, cols] = 1
    return mask, float(hull.volume / pixel_size_A**2)
