"""Classical fills of a partial scan: the baselines of Ede 2020, Table 2.

Nearest, bilinear, bicubic and Lanczos use OpenCV's kernels (triangle; Keys cubic with
a = -0.75; 8-tap Lanczos) but place every sample exactly where its probe was: sample
(i, j) of a scan at step s and offset (oy, ox) sits at full-grid pixel (oy + i*s,
ox + j*s). ``cv2.resize`` assumes pixel *centres* line up instead, which shifts a
partial scan by (s - 1)/2 px, and ``cv2.remap`` quantises sub-pixel positions to 1/32 px;
the separable weight matrices here are exact in float arithmetic, so bilinear
reproduces a linear ramp and every method reproduces the measured samples. Outside
the outermost samples, the edge sample is repeated (OpenCV's BORDER_REPLICATE).

"area" is ``cv2.resize(samples, (W, H), INTER_AREA)``: OpenCV's own geometry, which is
what "area" means to an OpenCV user (Ede 2020's Table 2 used resize for every method).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from dosewise.errors import InvalidParameterError
from dosewise.physics.partial_scan import PartialScan, upsample_partial

BASELINES: tuple[str, ...] = ("nearest", "area", "bilinear", "bicubic", "lanczos")
_CUBIC_A = -0.75  # OpenCV's INTER_CUBIC


def _linear(t: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, 1.0 - np.abs(t))


def _cubic(t: np.ndarray) -> np.ndarray:
    a, x = _CUBIC_A, np.abs(t)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def _lanczos4(t: np.ndarray) -> np.ndarray:
    return np.where(np.abs(t) < 4, np.sinc(t) * np.sinc(t / 4), 0.0)


_KERNELS: dict[str, tuple[int, Callable[[np.ndarray], np.ndarray]]] = {
    "bilinear": (1, _linear),
    "bicubic": (2, _cubic),
    "lanczos": (4, _lanczos4),
}


def _axis_weights(n_full: int, step: int, offset: int, n_samples: int, method: str) -> np.ndarray:
    """(n_full, n_samples) interpolation matrix along one axis, rows summing to 1."""
    radius, kernel = _KERNELS[method]
    position = (np.arange(n_full, dtype=np.float64) - offset) / step
    base = np.floor(position).astype(int)
    weights = np.zeros((n_full, n_samples))
    rows = np.arange(n_full)
    for tap in range(-radius + 1, radius + 1):
        index = np.clip(base + tap, 0, n_samples - 1)
        np.add.at(weights, (rows, index), kernel(position - (base + tap)))
    return weights / weights.sum(axis=1, keepdims=True)


def interpolate_partial(
    samples: np.ndarray,
    step: int,
    full_shape: tuple[int, int],
    offset: tuple[int, int] = (0, 0),
    method: str = "bilinear",
) -> np.ndarray:
    """The full (H, W) image from the kept probe positions by one classical method."""
    if method not in BASELINES:
        raise InvalidParameterError(f"unknown interpolation {method!r}; choose from {', '.join(BASELINES)}")
    samples = np.asarray(samples, dtype=np.float64)
    height, width = (int(v) for v in full_shape)
    if method == "nearest":
        return upsample_partial(samples, step, (height, width), offset).astype(np.float32)
    if method == "area":
        return cv2.resize(samples.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
    expected = (len(range(offset[0], height, step)), len(range(offset[1], width, step)))
    if samples.shape != expected or min(offset) < 0 or max(offset) >= step:
        raise InvalidParameterError(
            f"samples of shape {samples.shape} do not fit a {height}x{width} scan at step {step} "
            f"and offset {tuple(offset)} (expected {expected})"
        )
    rows = _axis_weights(height, step, offset[0], samples.shape[0], method)
    cols = _axis_weights(width, step, offset[1], samples.shape[1], method)
    return (rows @ samples @ cols.T).astype(np.float32)


def baseline_methods() -> dict[str, Callable[[PartialScan], np.ndarray]]:
    """Every baseline as a function of a :class:`PartialScan`, for evaluation tables."""
    def method_of(name: str) -> Callable[[PartialScan], np.ndarray]:
        return lambda scan: interpolate_partial(scan.samples, scan.step, scan.mask.shape, scan.offset, name)

    return {name: method_of(name) for name in BASELINES}
