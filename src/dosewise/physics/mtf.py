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

import re

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dosewise.errors import InvalidParameterError
from dosewise.physics._rng import Seed, as_generator


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
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise InvalidParameterError(f"invalid MTF parameters ({problems})") from None


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


class MTFPreset(BaseModel):
    """A named range of detectors (Larsen et al. 2023, Table 3); each draw is one detector.

    The scintillator MTF itself has C = 0 in the simulation: the noise floor
    comes from the readout noise Poisson(N0), added after the MTF.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    c0_range: tuple[float, float]
    c3_range: tuple[float, float]
    n0_range_e_per_px: tuple[float, float]

    @model_validator(mode="after")
    def _check_ranges(self) -> MTFPreset:
        for label, (low, high) in (
            ("c0", self.c0_range),
            ("c3", self.c3_range),
            ("N0", self.n0_range_e_per_px),
        ):
            if not 0 <= low <= high or (label != "N0" and low <= 0):
                raise ValueError(f"{label} range must satisfy 0 < low <= high, got ({low}, {high})")
        return self

    def sample(self, seed: Seed = None) -> tuple[MTFParams, float]:
        """Draw (MTF parameters, N0 in e-/px) uniformly within the ranges."""
        rng = as_generator(seed)
        c0 = rng.uniform(*self.c0_range)
        c3 = rng.uniform(*self.c3_range)
        n0_e_per_px = rng.uniform(*self.n0_range_e_per_px)
        return MTFParams(c0=c0, c3=c3, C=0.0), float(n0_e_per_px)


def _preset(name: str, c0: tuple[float, float], c3: tuple[float, float]) -> MTFPreset:
    return MTFPreset(name=name, c0_range=c0, c3_range=c3, n0_range_e_per_px=(0.005, 0.015))


MTF_PRESETS: dict[str, MTFPreset] = {
    p.name: p
    for p in (
        _preset("mtf1", (0.4, 0.6), (2.0, 3.0)),
        _preset("mtf2", (0.4, 0.6), (1.0, 5.0)),
        _preset("mtf3", (0.2, 0.3), (1.0, 5.0)),
        _preset("mtf4", (0.25, 0.6), (2.0, 5.0)),
        _preset("mtf5", (0.6, 0.8), (2.0, 5.0)),
    )
}

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TRIPLE = re.compile(rf"^\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*$")


def parse_mtf(text: str) -> MTFPreset | MTFParams:
    """A preset name ('mtf1'..'mtf5'), a preset file (.yaml/.yml) or one detector 'c0,c3,C'.

    Preset files are written by ``dosewise fit-mtf --preset-out`` (see
    :mod:`dosewise.physics.mtf_series`); a missing or malformed one is an error.
    """
    key = text.strip().lower()
    if key in MTF_PRESETS:
        return MTF_PRESETS[key]
    if key.endswith((".yaml", ".yml")):
        from dosewise.physics.mtf_series import load_preset_yaml  # it imports this module

        return load_preset_yaml(text.strip())
    match = _TRIPLE.match(text)
    if match is None:
        names = ", ".join(MTF_PRESETS)
        raise InvalidParameterError(
            f"unknown MTF {text!r}: expected a preset ({names}), a preset file (.yaml) "
            "or 'c0,c3,C' such as '0.25,2.5,0'"
        )
    c0, c3, C = (float(g) for g in match.groups())
    return make_mtf_params(c0, c3, C)
