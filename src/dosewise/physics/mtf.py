"""Scintillator modulation transfer function (Larsen et al. 2023, eq. 1 and Table 3).

Convention (deliberate; see docs/physics.md): the MTF multiplies the Fourier
transform -- the *amplitude* -- of the detected shot-noise image, and MTFs are
fitted to the *amplitude* spectrum, i.e. the square root of the azimuthally
averaged power spectral density |F|^2. Two reasons:

* With readout noise Poisson(N0) added after the scintillator (eq. 3), the
  amplitude spectrum of vacuum is sqrt(N_D * MTF(q)^2 + N0): its q -> 0 limit
  is sqrt(N_D + N0) and its tail sqrt(N0), so the normalised tail is
  C = sqrt(N0 / (N0 + N_D)) -- exactly Larsen et al. 2023, eq. 2, C^2 = N0 / (N0 + N_D).
* Larsen et al. 2023's own raw fits (SOI Figs. 6/7: c1 = 4353 at ~10 e-/A^2, 52887 at
  ~1300 e-/A^2) grow by 12 for a dose ratio of 130 ~ sqrt(130): amplitude fits.

abTEM (1.0, ``abtem/mtf.py``) instead multiplies the Fourier transform by
sqrt(MTF) -- a power convention, MTF = transfer of |F|^2 -- so the same curve is
a sharper detector there: our MTF is the square root of abTEM's.

Frequencies are in units of Nyquist: q~ = q / q_N = 2 * q * s, i.e. twice the
frequency in cycles/pixel; q~ = 1 is the Nyquist frequency.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dosewise.errors import InvalidParameterError, describe_validation_error


class MTFParams(BaseModel):
    """Parameters of eq. 1: half-maximum ``c0`` (Nyquist units), shape ``c3``, tail ``C``."""

    model_config = ConfigDict(frozen=True)

    c0: float = Field(gt=0, allow_inf_nan=False)
    c3: float = Field(gt=0, allow_inf_nan=False)
    C: float = Field(default=0.0, ge=0, lt=1, allow_inf_nan=False)


def make_mtf_params(c0: float, c3: float, C: float = 0.0) -> MTFParams:
    """``MTFParams`` that raises :class:`InvalidParameterError` instead of pydantic's error."""
    try:
        return MTFParams(c0=c0, c3=c3, C=C)
    except ValidationError as exc:
        raise InvalidParameterError(f"invalid MTF parameters ({describe_validation_error(exc)})") from None


def mtf_curve(q_nyquist: np.ndarray | float, c0: float, c3: float, C: float = 0.0) -> np.ndarray:
    """Eq. 1: (1 - C) / (1 + (q~/c0)^c3) + C, with MTF(0) = 1 and MTF(inf) = C."""
    q = np.abs(np.asarray(q_nyquist, dtype=np.float64))
    return (1.0 - C) / (1.0 + (q / c0) ** c3) + C


def radial_frequency_nyquist(shape: tuple[int, int], *, half: bool = True) -> np.ndarray:
    """q~ on the FFT grid of an (H, W) image; ``half`` gives the ``rfft2`` half-plane.

    Each axis uses its own pixel count, so non-square images get the physical
    radial frequency; the corners reach q~ = sqrt(2).
    """
    h, w = shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = (np.fft.rfftfreq(w) if half else np.fft.fftfreq(w))[None, :]
    return 2.0 * np.sqrt(fy**2 + fx**2)


def apply_mtf(image: np.ndarray, params: MTFParams) -> np.ndarray:
    """Multiply the Fourier transform of ``image`` (last two axes) by MTF(q~).

    The filter is real and radially symmetric, so the output is real; MTF(0) = 1
    keeps the mean (the electron count) unchanged. Values are not clipped:
    clipping the small negative ringing would bias both mean and spectrum.
    """
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim < 2:
        raise InvalidParameterError(f"apply_mtf needs an (..., H, W) array, got shape {arr.shape}")
    shape = arr.shape[-2:]
    transfer = mtf_curve(radial_frequency_nyquist(shape), params.c0, params.c3, params.C)
    spectrum = np.fft.rfft2(arr, axes=(-2, -1)) * transfer
    return np.fft.irfft2(spectrum, s=shape, axes=(-2, -1)).astype(np.float32)
