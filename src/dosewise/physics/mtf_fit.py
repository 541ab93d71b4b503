"""Measure a detector from vacuum: MTF fit (Larsen et al. 2023, eq. A.1) and readout N0 (eq. 2).

Following the convention in :mod:`dosewise.physics.mtf`, the fit is made to
the *amplitude* spectrum sqrt(<|F|^2>), not to the power spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy.optimize import curve_fit

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.physics.mtf import MTFParams, radial_frequency_nyquist

MIN_REGION_PX = 16
DEFAULT_BINS = 64  # 1/64 Nyquist: finer than any MTF feature, coarse enough to average noise


def _region(region: np.ndarray) -> np.ndarray:
    arr = np.asarray(region, dtype=np.float64)
    if arr.ndim != 2:
        raise InvalidImageError(f"MTF fitting needs a 2-D vacuum region, got shape {arr.shape}")
    if min(arr.shape) < MIN_REGION_PX:
        raise InvalidImageError(
            f"vacuum region {arr.shape[0]}x{arr.shape[1]} px is too small for an MTF fit "
            f"(need at least {MIN_REGION_PX} px a side)"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidImageError("vacuum region contains NaN or inf")
    return arr


def _binned_power(
    region: np.ndarray, n_bins: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radial bins of |F|^2 / n_px up to Nyquist: (q~ centres, mean power, pixels per bin)."""
    arr = _region(region)
    if n_bins is not None and n_bins < 1:
        raise InvalidParameterError(f"n_bins must be >= 1, got {n_bins}")
    h, w = arr.shape
    power = np.abs(np.fft.fft2(arr - arr.mean())) ** 2 / arr.size
    q = radial_frequency_nyquist((h, w), half=False)
    n_bins = min(h, w) // 2 if n_bins is None else min(n_bins, min(h, w) // 2)
    index = np.floor(q * n_bins - 1e-9).astype(np.int64)  # bin k holds k/n < q~ <= (k+1)/n
    keep = (q > 0) & (q <= 1.0)
    index, q, power = index[keep], q[keep], power[keep]
    counts = np.bincount(index, minlength=n_bins)
    filled = counts > 0
    q_sum = np.bincount(index, weights=q, minlength=n_bins)
    p_sum = np.bincount(index, weights=power, minlength=n_bins)
    return q_sum[filled] / counts[filled], p_sum[filled] / counts[filled], counts[filled]


def azimuthal_amplitude_spectrum(
    region: np.ndarray, n_bins: int | None = DEFAULT_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """(q~ bin centres, sqrt of the azimuthally averaged power |F|^2 / n_px), DC excluded.

    Plain periodogram without a window: vacuum noise is stationary and a taper
    would only mix neighbouring frequencies. ``n_bins`` equal bins span
    (0, 1] in q~ (capped at one frequency step of the shorter side; ``None``
    means exactly one step); centres are the mean q~ of their pixels. White
    noise of variance v gives a flat spectrum sqrt(v).
    """
    q, mean_power, _ = _binned_power(region, n_bins)
    return q, np.sqrt(mean_power)


def mtf_a1(q: np.ndarray, c0: float, c1: float, c2: float, c3: float) -> np.ndarray:
    """Eq. A.1: (c1 - c2) / (1 + (q~/c0)^c3) + c2 -- the un-normalised eq. 1."""
    return (c1 - c2) / (1.0 + (np.abs(q) / c0) ** c3) + c2


def vacuum_amplitude(q: np.ndarray, c0: float, c1: float, c2: float, c3: float) -> np.ndarray:
    """Eq. 3 in vacuum: sqrt((c1^2 - c2^2) L^2 + c2^2), L = 1 / (1 + (q~/c0)^c3).

    With c1^2 = N_D + N0 and c2^2 = N0 this is the expected amplitude spectrum
    sqrt(N_D * MTF^2 + N0) of white readout noise added after a C = 0 MTF.
    Same limits as eq. A.1 (c1 at q~ -> 0, c2 in the tail), different shape.
    """
    transfer = 1.0 / (1.0 + (np.abs(q) / c0) ** c3)
    return np.sqrt((c1**2 - c2**2) * transfer**2 + c2**2)


class NoiseFloor(str, Enum):
    """The spectrum form fitted: ``mtf`` (eq. A.1, the tail C belongs to the MTF) or
    ``readout`` (the eq. 3 vacuum spectrum sqrt(N_D·MTF² + N0), unbiased C for an N0 fit)."""

    mtf = "mtf"
    readout = "readout"


_FORMS = {"mtf": mtf_a1, "readout": vacuum_amplitude}


@dataclass(frozen=True)
class MTFFit:
    """Result of :func:`fit_mtf`; ``q_nyquist``/``amplitude`` are the fitted spectrum.

    ``c1`` is the q~ -> 0 limit and ``c2`` the tail of the amplitude spectrum
    under either ``floor`` form, so ``C = c2 / c1`` means the same in both.
    """

    c0: float
    c1: float
    c2: float
    c3: float
    r2: float
    floor: NoiseFloor
    q_nyquist: np.ndarray
    amplitude: np.ndarray

    @property
    def C(self) -> float:
        """Normalised tail c2 / c1 (eq. 1); feed a dose series of these to eq. 2."""
        return self.c2 / self.c1

    @property
    def params(self) -> MTFParams:
        """The scintillator MTF to simulate with; C = 0 when the floor is readout noise."""
        return MTFParams(c0=self.c0, c3=self.c3, C=self.C if self.floor == "mtf" else 0.0)

    def model(self, q_nyquist: np.ndarray) -> np.ndarray:
        return _FORMS[self.floor](q_nyquist, self.c0, self.c1, self.c2, self.c3)


def _r2(y: np.ndarray, y_fit: np.ndarray) -> float:
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - y_fit) ** 2)) / ss_tot if ss_tot > 0 else 0.0


def fit_mtf(
    region: np.ndarray, *, floor: NoiseFloor = NoiseFloor.mtf, n_bins: int | None = DEFAULT_BINS
) -> MTFFit:
    """Fit the amplitude spectrum of a vacuum ``region`` (>= 16 px a side).

    ``floor="mtf"`` fits eq. A.1 as in Larsen et al. 2023: right when the tail C belongs
    to the MTF itself. ``floor="readout"`` fits :func:`vacuum_amplitude`, the
    exact spectrum of eq. 3: use it to measure C for :func:`fit_readout_n0`.
    Eq. A.1 fitted to eq.-3 vacuum is biased even without noise (C off by
    +15 % at mid dose and down to -70 % once the shot noise still leaks past
    Nyquist), whatever the frame size or q range.

    The tail is parametrised as C = c2 / c1 in [0, 1) so the result is always a
    valid eq. 1 MTF. Each bin is weighted by its standard error (amplitude /
    sqrt(2 * pixels)) because low-q bins hold few pixels and are noisy.
    """
    if floor not in _FORMS:
        raise InvalidParameterError(f"floor must be 'mtf' or 'readout', got {floor!r}")
    form = _FORMS[floor]
    q, power, counts = _binned_power(region, n_bins)
    amplitude = np.sqrt(power)
    if amplitude.max() <= 0:
        raise InvalidImageError("vacuum region is constant; there is no noise to fit")
    sigma = np.maximum(amplitude, amplitude.max() * 1e-6) / np.sqrt(2.0 * counts)

    n_edge = max(2, len(q) // 10)
    c1_0 = float(np.mean(amplitude[:n_edge]))
    c2_0 = float(np.median(amplitude[-n_edge:]))
    ratio_0 = min(max(c2_0 / c1_0, 0.0), 0.9) if c1_0 > 0 else 0.1
    below = np.nonzero(amplitude < c2_0 + 0.5 * (c1_0 - c2_0))[0]
    c0_0 = float(q[below[0]]) if below.size else 0.5

    def model(qq: np.ndarray, c0: float, c1: float, ratio: float, c3: float) -> np.ndarray:
        return form(qq, c0, c1, ratio * c1, c3)

    try:
        popt, _ = curve_fit(
            model,
            q,
            amplitude,
            p0=(min(max(c0_0, 0.02), 1.5), c1_0, ratio_0, 2.5),
            sigma=sigma,
            bounds=((0.01, 0.0, 0.0, 0.3), (2.0, np.inf, 0.999, 20.0)),
            maxfev=20000,
        )
    except RuntimeError as exc:
        raise InvalidParameterError(f"MTF fit did not converge: {exc}") from None
    c0, c1, ratio, c3 = (float(v) for v in popt)
    return MTFFit(
        c0=c0,
        c1=c1,
        c2=ratio * c1,
        c3=c3,
        r2=_r2(amplitude, model(q, *popt)),
        floor=floor,
        q_nyquist=q,
        amplitude=amplitude,
    )


@dataclass(frozen=True)
class ReadoutFit:
    """Readout noise N0 in e-/px from eq. 2, with the R² of the fit of C."""

    n0_e_per_px: float
    r2: float


def c_from_n0(dose_e_per_px: np.ndarray, n0_e_per_px: float) -> np.ndarray:
    """Eq. 2 solved for C: sqrt(N0 / (N0 + N_D))."""
    dose = np.asarray(dose_e_per_px, dtype=np.float64)
    return np.sqrt(n0_e_per_px / (n0_e_per_px + dose))


def fit_readout_n0(C_values: np.ndarray, dose_e_per_px: np.ndarray) -> ReadoutFit:
    """Fit eq. 2, C^2 = N0 / (N0 + N_D), to fitted tails C over a dose series.

    The fit is made to C itself (the quantity measured), in log N0 so that N0
    stays positive and the step size suits any order of magnitude.
    """
    c = np.asarray(C_values, dtype=np.float64).ravel()
    dose = np.asarray(dose_e_per_px, dtype=np.float64).ravel()
    if c.shape != dose.shape or c.size < 2:
        raise InvalidParameterError(
            f"need matching C and dose series of >= 2 values, got {c.size} and {dose.size}"
        )
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(dose))) or np.any(dose <= 0):
        raise InvalidParameterError("C values must be finite and doses finite and > 0 e-/px")
    if np.any((c < 0) | (c >= 1)):
        raise InvalidParameterError("C values must lie in [0, 1)")

    c2 = np.clip(c**2, 1e-12, 1 - 1e-12)
    guess = float(np.median(c2 * dose / (1.0 - c2)))  # eq. 2 solved for N0, per frame

    def model(d: np.ndarray, log_n0: float) -> np.ndarray:
        return c_from_n0(d, np.exp(log_n0))

    popt, _ = curve_fit(model, dose, c, p0=(np.log(guess),))
    n0 = float(np.exp(popt[0]))
    return ReadoutFit(n0_e_per_px=n0, r2=_r2(c, c_from_n0(dose, n0)))
