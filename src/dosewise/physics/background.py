"""Smooth backgrounds and blur, to build "noise & background removal" targets.

Real micrographs sit on slowly varying backgrounds (thickness gradients,
uneven illumination, amorphous support) that a restoration network should
remove or ignore; adding random ones to simulated images teaches it to.
Backgrounds are zero-mean with a set peak-to-peak ``amplitude``, so adding one
changes contrast but not the average intensity (the dose).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter

from dosewise.errors import InvalidParameterError
from dosewise.physics._rng import Seed, as_generator


def gaussian_blur(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur of the last two axes (reflecting edges); sigma_px = 0 copies."""
    if not math.isfinite(sigma_px) or sigma_px < 0:
        raise InvalidParameterError(f"blur sigma must be finite and >= 0 px, got {sigma_px}")
    arr = np.asarray(image, dtype=np.float32)
    sigma = (0.0,) * (arr.ndim - 2) + (float(sigma_px),) * 2
    return gaussian_filter(arr, sigma=sigma, mode="reflect").astype(np.float32)


def _check(shape: tuple[int, int], amplitude: float) -> tuple[int, int]:
    if len(shape) != 2 or min(shape) < 2:
        raise InvalidParameterError(f"background shape must be (H, W) with H, W >= 2, got {shape}")
    if not math.isfinite(amplitude) or amplitude < 0:
        raise InvalidParameterError(
            f"background amplitude must be finite and >= 0, got {amplitude}"
        )
    return int(shape[0]), int(shape[1])


def _normalise(field: np.ndarray, amplitude: float) -> np.ndarray:
    field = field - field.mean()
    span = float(np.ptp(field))
    scale = amplitude / span if span > 0 else 0.0
    return (field * scale).astype(np.float32)


def linear_background(
    shape: tuple[int, int], seed: Seed = None, amplitude: float = 1.0
) -> np.ndarray:
    """A zero-mean plane with a uniformly random direction and peak-to-peak ``amplitude``."""
    h, w = _check(shape, amplitude)
    angle = as_generator(seed).uniform(0.0, 2.0 * math.pi)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    return _normalise(math.cos(angle) * x + math.sin(angle) * y, amplitude)


def nonlinear_background(
    shape: tuple[int, int],
    seed: Seed = None,
    amplitude: float = 1.0,
    *,
    n_blobs: int = 4,
    width_range: tuple[float, float] = (0.2, 0.6),
) -> np.ndarray:
    """A smooth random field: ``n_blobs`` broad Gaussians, zero mean, peak-to-peak ``amplitude``.

    Each blob has a random centre (possibly outside the image, giving gentle
    gradients), a random sign and weight, and a width drawn from
    ``width_range`` as a fraction of the image diagonal, so the field contains
    only frequencies far below the lattice fringes it is added to.
    """
    h, w = _check(shape, amplitude)
    if n_blobs < 1:
        raise InvalidParameterError(f"n_blobs must be >= 1, got {n_blobs}")
    low, high = width_range
    if not 0 < low <= high:
        raise InvalidParameterError(f"width_range must satisfy 0 < low <= high, got {width_range}")
    rng = as_generator(seed)
    diagonal = math.hypot(h, w)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    field = np.zeros((h, w))
    for _ in range(n_blobs):
        cy, cx = rng.uniform(-0.25, 1.25, size=2) * (h, w)
        width = rng.uniform(low, high) * diagonal
        weight = rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.0)
        field += weight * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2.0 * width**2))
    return _normalise(field, amplitude)
