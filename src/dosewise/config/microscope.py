"""Microscope parameter ranges (seed 003, Table 1; ADF-STEM) and one random draw of them.

These are the pure parameter models the simulation recipes hold
(:mod:`dosewise.config.simulation`); :mod:`dosewise.simulate` draws from them.

Conventions, stated once here and converted once in :mod:`dosewise.simulate.hrtem`:

* ``defocus_A``: positive = underfocus (the seed's abTEM ``defocus``), i.e. the
  aberration coefficient C10 = -defocus_A.
* ``focal_spread_A``: the *standard deviation* of the defocus spread. abTEM's
  ``focal_spread`` is the 1/e half-width (Kirkland), sqrt(2) times larger.
* ``blur_A``: standard deviation of a Gaussian blur of the image (vibration, drift).
* ``dose_e_per_A2``: the seed calls its distribution "exponential"; we draw it
  log-uniform between the limits (uniform in log10 dose), so every decade of
  dose gets the same share of images -- what a dose-limit study needs.
* ``pixel_size_A``: drawn once per structure, because it fixes the field of view
  and therefore the simulation cell; all other parameters are drawn per image.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from dosewise.config.base import Section

Range = tuple[float, float]


class MicroscopeParams(Section):
    """One set of imaging conditions for one image."""

    model_config = ConfigDict(frozen=True)

    energy_eV: float = Field(gt=0)
    defocus_A: float
    cs_um: float = Field(ge=0)
    focal_spread_A: float = Field(ge=0)
    blur_A: float = Field(ge=0)
    dose_e_per_A2: float = Field(gt=0)


class MicroscopeRanges(Section):
    """Limits (low, high) of every drawn parameter; the defaults are seed 003 Table 1."""

    model_config = ConfigDict(frozen=True)

    energy_eV: float = Field(default=300e3, gt=0)
    defocus_A: Range = (-200.0, 200.0)
    cs_um: Range = (0.0, 12.45)
    focal_spread_A: Range = (5.0, 20.0)
    blur_A: Range = (0.1, 0.8)
    dose_e_per_A2: Range = (1e2, 1e6)
    pixel_size_A: Range = (0.07, 0.08)

    @model_validator(mode="after")
    def _check(self) -> MicroscopeRanges:
        for name in ("defocus_A", "cs_um", "focal_spread_A", "blur_A", "dose_e_per_A2", "pixel_size_A"):
            low, high = getattr(self, name)
            if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                raise ValueError(f"invalid microscope ranges: {name} must be finite with low <= high, "
                                 f"got ({low}, {high})")
        for name in ("cs_um", "focal_spread_A", "blur_A"):
            if getattr(self, name)[0] < 0:
                raise ValueError(f"invalid microscope ranges: {name} must be >= 0, got {getattr(self, name)}")
        for name in ("dose_e_per_A2", "pixel_size_A"):
            if getattr(self, name)[0] <= 0:
                raise ValueError(f"invalid microscope ranges: {name} must be > 0, got {getattr(self, name)}")
        return self

    def sample(self, rng: np.random.Generator) -> MicroscopeParams:
        """One image's optics and dose (pixel size excluded: see :meth:`sample_pixel_size_A`)."""
        log_dose = rng.uniform(*np.log(self.dose_e_per_A2))
        return MicroscopeParams(
            energy_eV=self.energy_eV,
            defocus_A=float(rng.uniform(*self.defocus_A)),
            cs_um=float(rng.uniform(*self.cs_um)),
            focal_spread_A=float(rng.uniform(*self.focal_spread_A)),
            blur_A=float(rng.uniform(*self.blur_A)),
            dose_e_per_A2=float(np.exp(log_dose)),
        )

    def sample_pixel_size_A(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(*self.pixel_size_A))


class StemRanges(Section):
    """ADF-STEM: limits of every drawn parameter; uniform unless said otherwise.

    Defaults: an aberration-corrected 200 or 300 kV STEM (residual defocus and Cs small),
    0.08..0.2 Å/px, and a dose per Å² that takes the brightest column from a few counts
    per pixel to nearly noise-free (see docs/simulate.md).
    """

    model_config = ConfigDict(frozen=True)

    energies_eV: tuple[float, ...] = (200e3, 300e3)  # one of these, equally likely
    semiangle_mrad: Range = (15.0, 30.0)  # probe-forming aperture
    defocus_A: Range = (-20.0, 20.0)  # positive = underfocus, C10 = -defocus_A
    cs_um: Range = (-10.0, 10.0)  # residual C30 after correction
    atom_sigma_A: Range = (0.1, 0.2)  # Gaussian width of one column in the object
    z_exponent: Range = (1.6, 2.0)
    pixel_size_A: Range = (0.08, 0.2)
    dose_e_per_A2: Range = (1e2, 1e5)  # log-uniform
    background_ptp: Range = (0.05, 0.5)  # peak-to-peak, in units of the clean maximum
    background_offset: Range = (0.0, 0.2)  # the background's minimum
    scan_jitter_px: Range = (0.1, 1.0)  # std of the per-line horizontal offset
    scan_flicker: Range = (0.0, 0.05)  # std of the per-line relative intensity

    @model_validator(mode="after")
    def _check(self) -> StemRanges:
        if not self.energies_eV or min(self.energies_eV) <= 0:
            raise ValueError(f"invalid STEM ranges: energies_eV must be non-empty and > 0, got {self.energies_eV}")
        positive = ("semiangle_mrad", "atom_sigma_A", "z_exponent", "pixel_size_A", "dose_e_per_A2")
        non_negative = ("background_ptp", "background_offset", "scan_jitter_px", "scan_flicker")
        for name in ("defocus_A", "cs_um", *positive, *non_negative):
            low, high = getattr(self, name)
            if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                raise ValueError(f"invalid STEM ranges: {name} must be finite with low <= high, got ({low}, {high})")
            if name in positive and low <= 0:
                raise ValueError(f"invalid STEM ranges: {name} must be > 0, got ({low}, {high})")
            if name in non_negative and low < 0:
                raise ValueError(f"invalid STEM ranges: {name} must be >= 0, got ({low}, {high})")
        if self.semiangle_mrad[1] > 100:
            raise ValueError(f"invalid STEM ranges: semiangle_mrad must be <= 100 mrad, got {self.semiangle_mrad}")
        return self
