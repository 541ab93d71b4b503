"""Pixel sizes from whatever length unit a file uses, always as Å/px.

Vendor files store axis scales in nm, µm, pm or Å (or not at all); converting
here once means the dose maths downstream only ever sees ``pixel_size_A``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

_A_PER_UNIT: dict[str, float] = {
    "pm": 0.01,
    "a": 1.0,
    "å": 1.0,
    "angstrom": 1.0,
    "nm": 10.0,
    "µm": 1e4,
    "um": 1e4,
    "micron": 1e4,
    "microns": 1e4,
    "mm": 1e7,
    "m": 1e10,
}

# Same-looking characters that different writers use for Å and µ.
_CHAR_FIXES = {"\u212b": "å", "\u03bc": "µ", "\\u00b5": "µ", "\\u00c5": "å"}


def length_to_A(value: float, units: object) -> float | None:
    """``value`` expressed in Å, or ``None`` when ``units`` is not a known length unit."""
    if not isinstance(units, str):
        return None
    key = units.strip().lower()
    for old, new in _CHAR_FIXES.items():
        key = key.replace(old, new)
    factor = _A_PER_UNIT.get(key)
    if factor is None or not math.isfinite(float(value)) or float(value) <= 0:
        return None
    return float(value) * factor


SQUARE_PIXEL_RTOL = 1e-3
"""Pixels whose two sizes differ by less than this (relative) count as square: drift-corrected
and resampled files are off by 1e-4-1e-3; both sizes are kept in the metadata regardless."""


def pixel_sizes_from_axes(axes: Sequence[Mapping[str, Any]]) -> tuple[float, float] | None:
    """(y, x) Å/px of the two image axes (the last two), ``None`` if either is uncalibrated."""
    if len(axes) < 2:
        return None
    y, x = (length_to_A(ax.get("scale", 1.0), ax.get("units")) for ax in axes[-2:])
    return None if y is None or x is None else (y, x)


def square_pixel_A(sizes_yx_A: tuple[float, float] | None) -> float | None:
    """The one pixel size of (nearly) square pixels (the x size), ``None`` if not square."""
    if sizes_yx_A is None or not math.isclose(*sizes_yx_A, rel_tol=SQUARE_PIXEL_RTOL):
        return None
    return sizes_yx_A[1]
