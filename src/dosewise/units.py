"""Unit conversions, in one place.

Doses are given either per area (e-/Å², what a microscopist sets) or per pixel
(e-/px, what the noise model needs); they are related by the pixel area.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from dosewise.errors import InvalidParameterError


class DoseUnit(str, Enum):
    """How a dose is given: per area (``"e/A2"``, e-/Å²) or per pixel (``"e/px"``, e-/px)."""

    per_A2 = "e/A2"
    per_px = "e/px"


def as_dose_unit(unit: DoseUnit | str) -> DoseUnit:
    """``unit`` (a :class:`DoseUnit` or its value) as a :class:`DoseUnit`; a one-line error otherwise."""
    try:
        return DoseUnit(unit)
    except ValueError:
        raise InvalidParameterError(f"dose unit must be 'e/A2' or 'e/px', got {unit!r}") from None


PIXEL_SIZE_RANGE_A: tuple[float, float] = (1e-4, 1e7)
"""Pixel sizes any electron micrograph can have, 0.01 pm to 1 mm: outside it a number is a typo
(or a unit mistake), and its square would under- or overflow the dose conversions."""


def check_pixel_size_A(pixel_size_A: float, source: str | Path | None = None) -> float:
    """``pixel_size_A`` as a float, or a one-line error (naming ``source``) outside
    :data:`PIXEL_SIZE_RANGE_A`."""
    low, high = PIXEL_SIZE_RANGE_A
    if not low <= pixel_size_A <= high:  # NaN fails too
        raise InvalidParameterError(f"pixel size must lie in [{low:g}, {high:g}] Å/px, got {pixel_size_A}", source)
    return float(pixel_size_A)


def dose_e_per_px(dose_e_per_A2: float, pixel_size_A: float) -> float:
    """Electrons per pixel for a dose per area on pixels of ``pixel_size_A`` Å."""
    if not dose_e_per_A2 > 0:
        raise InvalidParameterError(f"dose must be > 0 e-/Å², got {dose_e_per_A2}")
    return float(dose_e_per_A2) * check_pixel_size_A(pixel_size_A) ** 2


def dose_e_per_A2(dose_e_per_px: float, pixel_size_A: float) -> float:
    """Electrons per Å² for a dose per pixel on pixels of ``pixel_size_A`` Å."""
    if not dose_e_per_px > 0:
        raise InvalidParameterError(f"dose must be > 0 e-/px, got {dose_e_per_px}")
    return float(dose_e_per_px) / check_pixel_size_A(pixel_size_A) ** 2


A_PER_NM = 10.0
"""1 nm = 10 Å (so 1 nm² = 100 Å²)."""


def A_to_nm(value_A: float) -> float:
    """Ångström to nanometres: sizes are fitted in Å/px and reported in nm."""
    return float(value_A) / A_PER_NM


def nm_to_A(value_nm: float) -> float:
    """Nanometres to Ångström: a pixel size given in nm/px as the Å/px doses are computed with."""
    return float(value_nm) * A_PER_NM
