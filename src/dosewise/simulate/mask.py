"""Segmentation label: the convex hull of the particle's projected atoms (Larsen et al. 2023,
Methods §2)."""

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
    the hull. The area is that of the hull clipped to the image (the union of its
    pixels), so it matches the rasterised mask also when the hull crosses the border;
    it is returned so callers can check the rasterisation against it.
    """
    points = np.asarray(xy_A, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 3:
        raise InvalidParameterError(f"need at least 3 projected (x, y) positions, got shape {points.shape}")
    hull = ConvexHull(points)
    vertices = (points[hull.vertices] - origin_A) / pixel_size_A
    rows, cols = polygon(vertices[:, 1], vertices[:, 0], shape=shape)
    mask = np.zeros(shape, dtype=np.uint8)
    mask[rows, cols] = 1
    inside = _clip_to_box(vertices, (-0.5, shape[1] - 0.5), (-0.5, shape[0] - 0.5))
    return mask, _polygon_area(inside)


def _clip_to_box(polygon_xy: np.ndarray, x_range: tuple[float, float],
                 y_range: tuple[float, float]) -> np.ndarray:
    """Sutherland-Hodgman clip of a convex polygon (vertices in order) to an axis-aligned box."""
    vertices = [tuple(v) for v in polygon_xy]
    for axis, (low, high) in ((0, x_range), (1, y_range)):
        for bound, sign in ((low, 1.0), (high, -1.0)):
            clipped = []
            for i, current in enumerate(vertices):
                previous = vertices[i - 1]
                cur_in = sign * (current[axis] - bound) >= 0
                prev_in = sign * (previous[axis] - bound) >= 0
                if cur_in != prev_in:
                    t = (bound - previous[axis]) / (current[axis] - previous[axis])
                    clipped.append(tuple(p + t * (c - p) for p, c in zip(previous, current)))
                if cur_in:
                    clipped.append(current)
            vertices = clipped
            if not vertices:
                return np.zeros((0, 2))
    return np.array(vertices)


def _polygon_area(vertices: np.ndarray) -> float:
    if len(vertices) < 3:
        return 0.0
    x, y = vertices[:, 0], vertices[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)
