"""Low-dose / high-dose training pairs of one field of view (Katsuno et al. 2022, §Methods).

The high-dose image is often larger (Katsuno et al. 2022: 4096² against 512²) and was taken at
another moment, so the sample drifted. :func:`align_pair` brings it onto the low-dose
grid (area averaging, which is what binning on the camera does), finds the drift by
phase cross-correlation of *smoothed* copies (the raw low-dose image, ~5 e-/px, is too
noisy to correlate reliably at sub-pixel precision) and rescales its intensities
linearly onto the low-dose image's, so the network learns denoising, not a change of
units.

Two safeguards for very noisy pairs (Noise2Noise exposures at ~1-2 e-/px):
- a drift is applied only when the cross-correlation peak stands out of the
  correlation surface (robust z-score >= ``MIN_PEAK_Z``); otherwise no drift is
  detectable and none is applied (a random peak would shift the target by tens of px);
- when both images are noisy, intensities are matched by the ratio of their means.
  A least-squares line of one noisy image on another is attenuated towards a
  constant by the noise in the regressor (its slope is about their correlation,
  0.03 for the real pair in ../shared), which would turn the target into a flat image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.registration import phase_cross_correlation
from skimage.transform import resize

from dosewise.errors import InvalidImageError


@dataclass(frozen=True)
class AlignedPair:
    """The low-dose image and the high-dose one on its grid, drift-corrected and rescaled.

    ``shift_px`` (rows, cols) was applied to the resampled high-dose image; ``scale`` and
    ``offset`` map its intensities onto the low-dose ones; ``valid`` marks pixels that
    the shift did not bring in from outside the field.
    """

    low: np.ndarray
    high: np.ndarray
    shift_px: tuple[float, float]
    scale: float
    offset: float
    valid: np.ndarray


def resample_to(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Area-average ``image`` onto ``shape``: exact binning for integer factors, else
    anti-aliased interpolation."""
    image = np.asarray(image, dtype=np.float64)
    if image.shape == tuple(shape):
        return image
    factors = [a / b for a, b in zip(image.shape, shape, strict=True)]
    if all(f >= 1 and float(f).is_integer() for f in factors):
        fy, fx = (int(f) for f in factors)
        return image.reshape(shape[0], fy, shape[1], fx).mean(axis=(1, 3))
    return resize(image, shape, order=1, anti_aliasing=True, preserve_range=True)


MIN_PEAK_Z = 14.0
"""Robust z-score the cross-correlation peak needs before a drift is believed."""


def estimate_shift(reference: np.ndarray, moving: np.ndarray, smooth_px: float = 2.0,
                   upsample: int = 20) -> tuple[float, float]:
    """The (row, col) shift that, applied to ``moving``, aligns it with ``reference``;
    (0, 0) when no correlation peak stands out of the noise (:func:`peak_z`)."""
    ref, mov = _windowed(reference, smooth_px), _windowed(moving, smooth_px)
    if peak_z(ref, mov) < MIN_PEAK_Z:
        return 0.0, 0.0
    shift, _, _ = phase_cross_correlation(ref, mov, upsample_factor=upsample, normalization=None)
    return float(shift[0]), float(shift[1])


def _windowed(image: np.ndarray, smooth_px: float) -> np.ndarray:
    smoothed = ndimage.gaussian_filter(np.asarray(image, np.float64), smooth_px)
    window = np.outer(np.hanning(smoothed.shape[0]), np.hanning(smoothed.shape[1]))
    return (smoothed - smoothed.mean()) * window


def peak_z(reference: np.ndarray, moving: np.ndarray) -> float:
    """How far the cross-correlation maximum stands above the rest of the surface, in
    robust standard deviations (median / MAD): large for a real common signal, about
    7-11 for two images of pure noise (smoothed 2 px, 64-512 px; 80 trials)."""
    surface = np.fft.ifft2(np.fft.fft2(reference) * np.conj(np.fft.fft2(moving))).real
    median = float(np.median(surface))
    spread = 1.4826 * float(np.median(np.abs(surface - median)))
    return (float(surface.max()) - median) / spread if spread > 0 else 0.0


def align_pair(low: np.ndarray, high: np.ndarray, smooth_px: float = 2.0, *,
               both_noisy: bool = False) -> AlignedPair:
    """Resample, register and rescale ``high`` onto ``low`` (both 2-D).

    ``both_noisy`` (Noise2Noise exposures): match intensities by the ratio of means
    instead of a least-squares line (see the module docstring)."""
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    if low.ndim != 2 or high.ndim != 2:
        raise InvalidImageError(f"pairs must be 2-D images, got {low.shape} and {high.shape}")
    if high.shape[0] < low.shape[0] or high.shape[1] < low.shape[1]:
        raise InvalidImageError(f"the high-dose image {high.shape} is smaller than the low-dose one {low.shape}")
    on_grid = resample_to(high, low.shape)
    shift = estimate_shift(low, on_grid, smooth_px)
    shifted = ndimage.shift(on_grid, shift, order=3, mode="nearest")
    valid = ndimage.shift(np.ones(low.shape), shift, order=0, mode="constant", cval=0.0) > 0.5
    if both_noisy:
        scale, offset = float(low[valid].mean() / max(shifted[valid].mean(), 1e-12)), 0.0
    else:
        scale, offset = np.polyfit(shifted[valid], low[valid], 1)
    return AlignedPair(
        low=low.astype(np.float32),
        high=(scale * shifted + offset).astype(np.float32),
        shift_px=shift,
        scale=float(scale),
        offset=float(offset),
        valid=valid,
    )
