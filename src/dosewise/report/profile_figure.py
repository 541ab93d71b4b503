"""The line-profile figure of ``dosewise profile``: the image with the line, and each profile with its fit.

Laid out like Katsuno et al. 2022, Figs. 6–7: measured profile, background as a dotted
line, particle centres as dotted verticals, and the fitted diameters marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from dosewise.analysis import Profile, ProfileAnalysis
from dosewise.report.style import display_range
from dosewise.units import A_to_nm


@dataclass(frozen=True)
class ProfilePanel:
    """One profile to draw: its label, samples, and the analysis (or why there is none)."""

    label: str
    profile: Profile
    analysis: ProfileAnalysis | None = None
    error: str | None = None


def profile_figure(image: np.ndarray, panels: Sequence[ProfilePanel], title: str = "") -> Figure:
    """Image zoomed on the line (left) and one profile panel per entry of ``panels`` (right)."""
    n = len(panels)
    fig = Figure(figsize=(11.0, 3.3 * n + 0.4))
    grid = fig.add_gridspec(n, 2, width_ratios=[1.0, 2.3])
    _draw_image(fig.add_subplot(grid[:, 0]), image, panels[0].profile)
    for row, panel in enumerate(panels):
        _draw_profile(fig.add_subplot(grid[row, 1]), panel, color="0.45" if panel.label == "raw" else "C0")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _draw_image(ax, image: np.ndarray, profile: Profile) -> None:
    (x0, y0), (x1, y1) = profile.start_xy, profile.end_xy
    height, width = image.shape
    margin = max(16.0, 0.3 * profile.length_px)
    left, right = max(min(x0, x1) - margin, -0.5), min(max(x0, x1) + margin, width - 0.5)
    top, bottom = max(min(y0, y1) - margin, -0.5), min(max(y0, y1) + margin, height - 0.5)
    rows = slice(int(np.floor(top + 0.5)), int(np.ceil(bottom + 0.5)))
    crop = image[rows, int(np.floor(left + 0.5)): int(np.ceil(right + 0.5))]
    lo, hi = display_range(crop if crop.size else image)
    ax.imshow(image, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
    ax.plot([x0, x1], [y0, y1], "-", color="C1", lw=1.2)
    if profile.width_px > 1:  # the averaging band's edges
        nx, ny = -(y1 - y0) / profile.length_px, (x1 - x0) / profile.length_px
        half = (profile.width_px - 1) / 2.0
        for s in (-half, half):
            ax.plot([x0 + s * nx, x1 + s * nx], [y0 + s * ny, y1 + s * ny], ":", color="C1", lw=0.8)
    for (x, y), name in (((x0, y0), "A"), ((x1, y1), "B")):
        ax.annotate(name, (x, y), color="C1", fontsize=10, fontweight="bold", xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_title(f"line A→B, {profile.width_px} px wide", fontsize=9)
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")


def _draw_profile(ax, panel: ProfilePanel, color: str) -> None:
    profile, analysis = panel.profile, panel.analysis
    scale, unit = (A_to_nm(profile.pixel_size_A), "nm") if profile.pixel_size_A is not None else (1.0, "px")
    distance = profile.distance_px * scale
    ax.plot(distance, profile.values, "-", color=color, lw=0.8, label=f"{panel.label} profile")
    ax.plot(distance, profile.values, ".", color=color, ms=2.5)
    ax.set_xlabel(f"distance from A ({unit})")
    ax.set_ylabel("intensity")
    if analysis is None:
        ax.set_title(f"{panel.label}: no fit ({panel.error})", fontsize=9)
        ax.legend(fontsize=8, loc="best")
        return
    ax.plot(distance, analysis.model, "--", color="C3", lw=1.2, label="blurred-sphere fit")
    ax.axhline(analysis.background, ls=":", color="k", lw=1.0, label="background")
    span = float(np.ptp(analysis.model)) or 1.0
    sign = 1.0 if analysis.polarity == "dark" else -1.0
    for index, particle in enumerate(analysis.particles):
        centre = particle.centre_px * scale
        radius = particle.diameter_px / 2.0 * scale
        ax.axvline(centre, ls=":", color="C2", lw=0.9)
        level = analysis.background - sign * (0.12 + 0.1 * index) * span
        ax.annotate("", (centre - radius, level), (centre + radius, level),
                    arrowprops={"arrowstyle": "<->", "color": "C2", "lw": 1.0})
        text = f"d{index + 1} = {particle.diameter_px * scale:.3g} ± {particle.diameter_se_px * scale:.2g}"
        ax.text(centre, level - sign * 0.04 * span, f"{text} {unit}", ha="center", va="top" if sign > 0 else "bottom",
                fontsize=8, color="C2")
    title = (f"{panel.label}: background {analysis.background:.4g}, edge width (10–90 %) "
             f"{analysis.edge_width_px * scale:.3g} {unit}")
    if analysis.resolved is not None:
        mean_d = sum(p.diameter_px for p in analysis.particles) / 2.0 * scale
        verdict = "resolved" if analysis.resolved else "not resolved"
        title += f"\n(d1+d2)/2 = {mean_d:.3g} {unit}, l = {analysis.separation_px * scale:.3g} {unit}: {verdict}"
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="best")
