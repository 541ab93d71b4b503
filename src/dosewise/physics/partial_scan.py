"""Partial (sub-sampled) STEM scans by nearest-neighbour subsampling (Ede 2020).

A STEM image is a regular lattice of probe positions, so keeping every s-th
position along each axis is physically the same as a coarser scan: coverage
c = 1/s^2 of the original. This makes (sparse, full) training pairs from any
single image. Ede 2020's protocol keeps every s-th position from the first
pixel (offset (0, 0): 512 px at s = 5 gives 103 positions per axis); random
offsets are available for augmentation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.physics._rng import Seed, as_generator

LOSS_STEPS = range(4, 11)  # Ede 2020 normalises over c in {1/s^2 : s = 4..10}


def _square_step(coverage: float, text: object) -> int:
    if not math.isfinite(coverage) or not 0 < coverage <= 1:
        raise InvalidParameterError(f"coverage {text!r} must lie in (0, 1]")
    root = 1.0 / math.sqrt(coverage)
    step = round(root)
    if not math.isclose(coverage, 1.0 / step / step, rel_tol=1e-6):  # step**2 may exceed a float
        low, high = max(math.floor(root), 1), math.ceil(root)
        raise InvalidParameterError(
            f"coverage {text!r} is not 1/s^2 for an integer s; a partial scan keeps every "
            f"s-th probe position per axis, so use e.g. 1/{low**2} or 1/{high**2}"
        )
    return step


MIN_STEP, MAX_STEP = 2, 32
"""Partial scans the tools take: s = 1 is a full scan, and beyond 1/1024 (s > 32) too little
of a scan is left to fill in (Ede 2020 works at 1/16-1/100)."""


def parse_coverage(value: str | float | int) -> int:
    """The step s for a coverage 1/s^2 given as '1/25', '0.04' or 25.

    Numbers (or strings) greater than 1 are read as the denominator ('25'
    means 1/25); numbers in (0, 1] are the coverage itself.
    """
    text = value
    try:
        if isinstance(value, str):
            number = Fraction(value.strip().replace(" ", ""))
        elif isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            number = None
        else:
            number = Fraction(float(value)) if math.isfinite(float(value)) else None
    except (TypeError, ValueError, ZeroDivisionError):
        number = None
    if number is None or number <= 0:
        raise InvalidParameterError(
            f"coverage {text!r} is not a positive number such as '1/25', '0.04' or 25"
        )
    coverage = float(1 / number) if number > 1 else float(number)
    step = _square_step(coverage, text)
    if not MIN_STEP <= step <= MAX_STEP:
        raise InvalidParameterError(
            f"coverage {text!r} is 1/{step * step}; a partial scan keeps every s-th probe with "
            f"{MIN_STEP} <= s <= {MAX_STEP}, i.e. coverages 1/{MIN_STEP ** 2} to 1/{MAX_STEP ** 2}")
    return step


@dataclass(frozen=True)
class PartialScan:
    """A simulated coarse scan of a full image.

    ``samples``: the kept probe positions as a small image ``image[..., oy::s, ox::s]``;
    ``mask``: (H, W) bool, True at kept positions; ``filled``: full-size image in
    which every pixel takes the value of its nearest kept position.
    """

    samples: np.ndarray
    mask: np.ndarray
    filled: np.ndarray
    step: int
    offset: tuple[int, int]

    @property
    def coverage(self) -> float:
        return 1.0 / self.step**2


def _check_step(step: int) -> int:
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise InvalidParameterError(f"partial-scan step must be an integer >= 1, got {step!r}")
    return int(step)


def _check_offset(
    offset: tuple[int, int], step: int, full_shape: tuple[int, int]
) -> tuple[int, int]:
    oy, ox = (int(v) for v in offset)
    if not (0 <= oy < min(step, full_shape[0]) and 0 <= ox < min(step, full_shape[1])):
        raise InvalidParameterError(
            f"scan offset {offset} must satisfy 0 <= offset < step ({step}) and the image size"
        )
    return oy, ox


def _nearest_index(n_full: int, step: int, offset: int, n_kept: int) -> np.ndarray:
    """Index of the nearest kept position for each pixel of one axis; ties go to the lower one."""
    k = (np.arange(n_full) - offset + (step - 1) // 2) // step
    return np.clip(k, 0, n_kept - 1)


def upsample_partial(
    samples: np.ndarray, step: int, full_shape: tuple[int, int], offset: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """Nearest-neighbour fill of ``full_shape`` from a coarse scan ``samples`` (..., h, w).

    Needed when only the small image exists. On a rectangular lattice the
    nearest position is nearest along each axis separately, so the fill is
    separable; kept pixels reproduce their samples exactly.
    """
    step = _check_step(step)
    arr = np.asarray(samples)
    h_full, w_full = (int(v) for v in full_shape)
    oy, ox = _check_offset(offset, step, (h_full, w_full))
    expected = (len(range(oy, h_full, step)), len(range(ox, w_full, step)))
    if arr.ndim < 2 or arr.shape[-2:] != expected:
        raise InvalidImageError(
            f"samples of shape {arr.shape} do not match a {h_full}x{w_full} scan at step {step} "
            f"and offset {(oy, ox)} (expected (..., {expected[0]}, {expected[1]}))"
        )
    rows = _nearest_index(h_full, step, oy, expected[0])
    cols = _nearest_index(w_full, step, ox, expected[1])
    return arr[..., rows[:, None], cols[None, :]]


def partial_scan(
    image: np.ndarray,
    step: int,
    offset: tuple[int, int] | Literal["random"] = (0, 0),
    seed: Seed = None,
) -> PartialScan:
    """Keep every ``step``-th probe position of ``image`` (..., H, W) from ``offset``.

    ``offset="random"`` draws each offset uniformly from [0, step) with ``seed``.
    """
    step = _check_step(step)
    arr = np.asarray(image)
    if arr.ndim < 2 or min(arr.shape[-2:]) < 1:
        raise InvalidImageError(f"partial scan needs an (..., H, W) image, got shape {arr.shape}")
    h, w = arr.shape[-2:]
    if isinstance(offset, str):
        if offset != "random":
            raise InvalidParameterError(f"offset must be (oy, ox) or 'random', got {offset!r}")
        rng = as_generator(seed)
        offset = (int(rng.integers(min(step, h))), int(rng.integers(min(step, w))))
    oy, ox = _check_offset(offset, step, (h, w))
    samples = arr[..., oy::step, ox::step]
    mask = np.zeros((h, w), dtype=bool)
    mask[oy::step, ox::step] = True
    filled = upsample_partial(samples, step, (h, w), (oy, ox))
    return PartialScan(samples=samples.copy(), mask=mask, filled=filled, step=step, offset=(oy, ox))


def p_raw(coverage: np.ndarray | float) -> np.ndarray:
    """Ede 2020, eq. 1: fitted MSE of a partial-STEM network vs coverage c."""
    c = np.asarray(coverage, dtype=np.float64)
    return 0.002211 - 0.037887 * c + 0.289451 * c**2


def loss_normaliser_p(coverage: np.ndarray | float) -> np.ndarray:
    """Ede 2020, eq. 2: p(c) = p_raw(c) / mean(p_raw over c = 1/s^2, s = 4..10).

    Divide a coverage's MSE by p(c) so that training on mixed coverages does not
    over-weight the sparsest scans, whose losses are largest.
    """
    reference = np.mean([p_raw(1.0 / s**2) for s in LOSS_STEPS])
    return p_raw(coverage) / reference


def blur_target(image: np.ndarray, sigma_px: float = 2.5, size_px: int = 5) -> np.ndarray:
    """Ede 2020's training and test target: the full scan blurred by a ``size_px`` x ``size_px``
    symmetric Gaussian kernel of ``sigma_px`` (reflecting borders); ``sigma_px = 0`` returns
    the image unchanged. Blurring suppresses the shot noise no network can predict, so
    losses rank examples by content rather than by their noise level."""
    from scipy.ndimage import convolve  # local: the physics module stays light to import

    arr = np.asarray(image, dtype=np.float32)
    if sigma_px == 0:
        return arr.copy()
    if sigma_px < 0 or size_px < 1 or size_px % 2 == 0:
        raise InvalidParameterError(
            f"target blur needs sigma_px >= 0 and an odd kernel size, got {sigma_px}, {size_px}"
        )
    offsets = np.arange(size_px) - size_px // 2
    kernel_1d = np.exp(-0.5 * (offsets / sigma_px) ** 2)
    kernel = np.outer(kernel_1d, kernel_1d)
    kernel /= kernel.sum()
    kernel = kernel.reshape((1,) * (arr.ndim - 2) + kernel.shape)
    return convolve(arr, kernel.astype(np.float32), mode="reflect")
