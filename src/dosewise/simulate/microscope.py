"""Microscope parameter ranges (Larsen et al. 2023, Table 1) and one random draw of them.

Conventions, stated once here and converted once in :mod:`dosewise.simulate.hrtem`:

* ``defocus_A``: positive = underfocus (Larsen et al. 2023's abTEM ``defocus``), i.e. the
  aberration coefficient C10 = -defocus_A.
* ``focal_spread_A``: the *standard deviation* of the defocus spread. abTEM's
  ``focal_spread`` is the 1/e half-width (Kirkland), sqrt(2) times larger.
* ``blur_A``: standard deviation of a Gaussian blur of the image (vibration, drift).
* ``dose_e_per_A2``: Larsen et al. 2023 calls its distribution "exponential"; we draw it
  log-uniform between the limits (uniform in log10 dose), so every decade of
  dose gets the same share of images -- what a dose-limit study needs.
* ``pixel_size_A``: drawn once per structure, because it fixes the field of view
  and therefore the simulation cell; all other parameters are drawn per image.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dosewise.errors import InvalidParameterError

Range = tuple[float, float]


class MicroscopeParams(BaseModel):
    """One set of imaging conditions for one image."""

    model_config = ConfigDict(frozen=True)

    energy_eV: float = Field(gt=0)
    defocus_A: float
    cs_um: float = Field(ge=0)
    focal_spread_A: float = Field(ge=0)
    blur_A: float = Field(ge=0)
    dose_e_per_A2: float = Field(gt=0)


class MicroscopeRanges(BaseModel):
    """Limits (low, high) of every drawn parameter; the defaults are Larsen et al. 2023, Table 1."""

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
                raise ValueError(f"{name} range must be finite with low <= high, got ({low}, {high})")
        for name in ("cs_um", "focal_spread_A", "blur_A"):
            if getattr(self, name)[0] < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("dose_e_per_A2", "pixel_size_A"):
            if getattr(self, name)[0] <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
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


def make_ranges(**overrides: object) -> MicroscopeRanges:
    """:class:`MicroscopeRanges` that raises :class:`InvalidParameterError` on bad limits."""
    try:
        return MicroscopeRanges(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'ranges'}: {e['msg']}" for e in exc.errors())
        raise InvalidParameterError(f"invalid microscope ranges ({problems})") from None
