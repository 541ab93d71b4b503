"""Electron counting noise of a scintillator camera (Larsen et al. 2023, eq. 3).

The detected image, in electrons per pixel, is

    total = MTF[Poisson(N_D * I)] + Poisson(N0)

where ``I`` is the clean intensity normalised so that vacuum is ~1, ``N_D``
the dose in e-/px and ``N0`` the readout noise in e-/px. Shot noise is spread
by the scintillator's point spread function; readout noise arises after the
scintillator and stays white. Larsen et al. 2023 models readout noise as Poisson(N0) for
lack of a better model, and so do we.
"""

from __future__ import annotations

import math

import numpy as np

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.physics._rng import Seed, as_generator
from dosewise.physics.mtf import MTFParams, apply_mtf


MAX_COUNTS_E_PER_PX = 1e12
"""Far beyond any detector's counts per pixel per frame, and safely inside what a Poisson draw
can represent (numpy refuses rates above ~9e18)."""


def check_dose(dose_e_per_px: float) -> float:
    """The dose as a float, or :class:`InvalidParameterError` unless finite, > 0 and at most
    ``MAX_COUNTS_E_PER_PX``."""
    dose = float(dose_e_per_px)
    if not math.isfinite(dose) or dose <= 0:
        raise InvalidParameterError(f"dose must be a finite number > 0 e-/px, got {dose_e_per_px}")
    if dose > MAX_COUNTS_E_PER_PX:
        raise InvalidParameterError(f"dose must be at most {MAX_COUNTS_E_PER_PX:.0e} e-/px (no detector counts "
                                    f"more per pixel), got {dose:.3g}")
    return dose


def check_n0(n0_e_per_px: float) -> float:
    """Readout noise N0 as a float; 0 switches it off, negative or non-finite is an error."""
    n0 = float(n0_e_per_px)
    if not math.isfinite(n0) or n0 < 0 or n0 > MAX_COUNTS_E_PER_PX:
        raise InvalidParameterError(
            f"readout noise N0 must be finite, >= 0 and at most {MAX_COUNTS_E_PER_PX:.0e} e-/px, got {n0_e_per_px}"
        )
    return n0


def _intensity(intensity: np.ndarray) -> np.ndarray:
    arr = np.asarray(intensity, dtype=np.float64)
    if arr.size == 0:
        raise InvalidImageError("intensity image is empty")
    if not np.all(np.isfinite(arr)):
        raise InvalidImageError("intensity image contains NaN or inf")
    return np.clip(arr, 0.0, None)


def shot_noise(intensity: np.ndarray, dose_e_per_px: float, seed: Seed = None) -> np.ndarray:
    """Counts ~ Poisson(dose_e_per_px * I) as float32; negative ``I`` counts as 0."""
    dose = check_dose(dose_e_per_px)
    rate = _intensity(intensity) * dose
    if rate.max() > MAX_COUNTS_E_PER_PX:
        raise InvalidParameterError(f"dose x intensity reaches {rate.max():.3g} e-/px somewhere, above "
                                    f"{MAX_COUNTS_E_PER_PX:.0e}: lower the dose or normalise the image")
    return as_generator(seed).poisson(rate).astype(np.float32)


def readout_noise(shape: tuple[int, ...], n0_e_per_px: float, seed: Seed = None) -> np.ndarray:
    """White readout counts ~ Poisson(N0) as float32 (zeros when N0 = 0)."""
    n0 = check_n0(n0_e_per_px)
    return as_generator(seed).poisson(n0, size=shape).astype(np.float32)


def detector_image(
    intensity: np.ndarray,
    dose_e_per_px: float,
    *,
    mtf: MTFParams | None = None,
    n0_e_per_px: float = 0.0,
    seed: Seed = None,
) -> np.ndarray:
    """Eq. 3: MTF[Poisson(N_D * I)] + Poisson(N0), in electron counts (float32).

    Without ``mtf`` the shot noise stays white (a direct electron counter).
    """
    n0 = check_n0(n0_e_per_px)
    rng = as_generator(seed)
    counts = shot_noise(intensity, dose_e_per_px, rng)
    if mtf is not None:
        counts = apply_mtf(counts, mtf)
    if n0 > 0:
        counts = counts + readout_noise(counts.shape, n0, rng)
    return counts.astype(np.float32, copy=False)
