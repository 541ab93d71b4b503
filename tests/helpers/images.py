"""Synthetic bright-field images of projected spheres (seed 002's profile tests)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

BLUR_PX = 1.5


def sphere_image(
    shape: tuple[int, int], spheres: list[tuple[float, float, float]], dose: float | None = 500.0,
    contrast_per_px: float = 0.5 / 40, seed: int = 0,
) -> np.ndarray:
    """Bright-field image of spheres (x, y, R): dose · (1 − k·t(x, y)) blurred by σ = 1.5 px, Poisson noise."""
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(float)
    thickness = np.zeros(shape)
    for cx, cy, radius in spheres:
        thickness += 2.0 * np.sqrt(np.clip(radius**2 - (xx - cx) ** 2 - (yy - cy) ** 2, 0.0, None))
    clean = gaussian_filter(1.0 - contrast_per_px * thickness, BLUR_PX)
    if dose is None:
        return clean.astype(np.float32)
    return np.random.default_rng(seed).poisson(dose * clean).astype(np.float32)
