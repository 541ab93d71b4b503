"""What a line-profile fit reports: particles, background, edge width and the resolution verdict."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from dosewise.errors import InvalidParameterError
from dosewise.units import A_to_nm



class Polarity(str, Enum):
    """Which way particles differ from the background: ``dark`` (darker, bright-field TEM) or
    ``bright``."""

    dark = "dark"
    bright = "bright"


def as_polarity(value: Polarity | str) -> Polarity:
    """``value`` (a :class:`Polarity` or its value) as a :class:`Polarity`; a one-line error otherwise."""
    try:
        return Polarity(value)
    except ValueError:
        raise InvalidParameterError(f"polarity must be 'dark' or 'bright', got {value!r}") from None


@dataclass(frozen=True)
class ParticleFit:
    """One particle along the profile; lengths in px along the line, ``*_se_px`` one standard error.

    ``pseudo_diameter_px`` and ``edge_width_paper_px`` follow Katsuno et al. 2022 literally:
    the distance between the points where the measured profile crosses the
    background level on either side, and (pseudo-diameter − diameter)/2. They
    are ``None`` where the profile does not come back to the background before
    the line ends or the neighbouring particle's centre.
    """

    centre_px: float
    centre_se_px: float
    diameter_px: float
    diameter_se_px: float
    amplitude: float  # intensity change per px of projected thickness
    pseudo_diameter_px: float | None
    edge_width_paper_px: float | None


@dataclass(frozen=True)
class ProfileAnalysis:
    """The fit of ``background ∓ Σ A_i (t_i ⊗ G_σ)`` to one profile and what it says.

    ``background`` is the robust level of the profile's outer parts (the dotted line
    of Katsuno et al. 2022); ``background_fit`` the fitted constant. ``edge_width_px`` is the
    10–90 % rise distance of a step edge blurred by the fitted Gaussian,
    2.563·σ, shared by all particles on the line. ``separation_px`` (l), ``resolved``
    and ``resolution_margin_px`` = l − (d1 + d2)/2 exist for two particles only.
    """

    background: float
    background_fit: float
    noise_std: float
    polarity: str  # a Polarity value
    sigma_px: float
    sigma_se_px: float
    edge_width_px: float
    edge_width_se_px: float
    particles: tuple[ParticleFit, ...]
    model: np.ndarray
    r2: float
    separation_px: float | None = None
    separation_se_px: float | None = None
    resolution_margin_px: float | None = None
    resolution_margin_se_px: float | None = None
    resolved: bool | None = None
    pixel_size_A: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain numbers for JSON; every length in px, and in nm when the pixel size is known."""
        nm = A_to_nm(self.pixel_size_A) if self.pixel_size_A is not None else None

        def lengths(name: str, value: float | None) -> dict[str, float | None]:
            out: dict[str, float | None] = {f"{name}_px": _num(value)}
            if nm is not None:
                out[f"{name}_nm"] = _num(value * nm) if value is not None else None
            return out

        particles = []
        for p in self.particles:
            row: dict[str, Any] = {}
            for name in ("centre", "centre_se", "diameter", "diameter_se", "pseudo_diameter",
                         "edge_width_paper"):
                row.update(lengths(name, getattr(p, f"{name}_px")))
            row["amplitude"] = _num(p.amplitude)
            particles.append(row)
        out: dict[str, Any] = {
            "polarity": self.polarity,
            "background": _num(self.background),
            "background_fit": _num(self.background_fit),
            "noise_std": _num(self.noise_std),
            "r2": _num(self.r2),
            "n_particles": len(self.particles),
            "particles": particles,
        }
        for name in ("sigma", "sigma_se", "edge_width", "edge_width_se", "separation", "separation_se",
                     "resolution_margin", "resolution_margin_se"):
            out.update(lengths(name, getattr(self, f"{name}_px")))
        out["resolved"] = self.resolved
        out["pixel_size_A"] = self.pixel_size_A
        return out


def _num(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return float(value)
