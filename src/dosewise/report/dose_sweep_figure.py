"""Larsen et al. 2023, Figs. 2-4 style: segmented area against frame dose on a log axis, and
overlays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from skimage.segmentation import find_boundaries

from dosewise.analysis.dose_sweep import DoseSweep
from dosewise.report.style import display_range


def dose_sweep_figure(sweeps: Sequence[DoseSweep], title: str = "") -> Figure:
    """Area (as a fraction of the target) vs dose per model: shaded converged band, black
    dashed convergence line(s), colour dashed 50 % lines; F1 vs dose below when masks exist."""
    with_truth = any(s.has_truth for s in sweeps)
    fig = Figure(figsize=(7.0, 6.6 if with_truth else 4.2))
    axes = fig.subplots(2 if with_truth else 1, 1, sharex=True, squeeze=False)[:, 0]
    ax = axes[0]
    for index, sweep in enumerate(sweeps):
        colour = f"C{index % 10}"
        doses, target = sweep.doses_e_per_A2, sweep.target_area_px or 1.0
        ax.plot(doses, sweep.areas_px / target, "o-", ms=3, lw=1.2, color=colour, label=sweep.name)
        if sweep.band_px is not None and sweep.convergence_dose_e_per_A2 is not None:
            low, high = (v / target for v in sweep.band_px)
            ax.fill_between([sweep.convergence_dose_e_per_A2, doses.max()], low, high, color=colour, alpha=0.12, lw=0)
            ax.axvline(sweep.convergence_dose_e_per_A2, color="k", ls="--", lw=1.0)
        if sweep.dose_50_e_per_A2 is not None:
            ax.axvline(sweep.dose_50_e_per_A2, color=colour, ls=":", lw=1.4)
    ax.axhline(0.5, color="0.6", lw=0.8)
    ax.set_xscale("log")
    source = sweeps[0].target_source if sweeps else ""
    ax.set_ylabel(f"segmented area / target ({source})")
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title or "segmented area vs frame dose (dashed: convergence, dotted: 50 %)", fontsize=10)
    if with_truth:
        for index, sweep in enumerate(sweeps):
            if sweep.has_truth:
                f1 = [f.f1 for f in sweep.frames]
                axes[1].plot(sweep.doses_e_per_A2, f1, "o-", ms=3, lw=1.2, color=f"C{index % 10}", label=sweep.name)
        axes[1].set_ylabel("F1 (= Dice) vs true mask")
        axes[1].set_ylim(0, 1.02)
    axes[-1].set_xlabel("frame dose (e⁻/Å²)")
    fig.tight_layout()
    return fig


def overlay_figure(frame: np.ndarray, mask: np.ndarray, reference: np.ndarray, title: str) -> Figure:
    """The frame in grey, the segmentation in orange, the reference outline in cyan
    (Larsen et al. 2023, Fig. 2b)."""
    lo, hi = display_range(frame)
    grey = np.clip((frame - lo) / (hi - lo), 0, 1)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    rgb[mask] = 0.55 * rgb[mask] + 0.45 * np.array([1.0, 0.55, 0.0])
    rgb[find_boundaries(reference, mode="inner")] = (0.0, 1.0, 1.0)
    fig = Figure(figsize=(4.0, 4.3))
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(rgb, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    fig.tight_layout()
    return fig


def dose_study_figure(runs: dict[str, Sequence[DoseSweep]], title: str = "") -> Figure:
    """Area / target and F1 against dose per run over several test series: the mean as a line,
    the range over the series shaded, the median 50 % dose dotted. Series whose doses differ
    from the first one's are drawn as thin lines of their own."""
    with_truth = any(s.has_truth for sweeps in runs.values() for s in sweeps)
    fig = Figure(figsize=(7.0, 6.6 if with_truth else 4.2))
    axes = fig.subplots(2 if with_truth else 1, 1, sharex=True, squeeze=False)[:, 0]
    for index, (name, sweeps) in enumerate(runs.items()):
        colour = f"C{index % 10}"
        doses = sweeps[0].doses_e_per_A2
        same = [s for s in sweeps if np.array_equal(s.doses_e_per_A2, doses)]
        label = name if len(same) == 1 else f"{name} (n={len(same)})"
        curves = [np.stack([s.areas_px / (s.target_area_px or 1.0) for s in same])]
        if with_truth:
            curves.append(np.stack([[f.f1 if f.f1 is not None else np.nan for f in s.frames] for s in same]))
        for axis, values in zip(axes, curves):
            axis.plot(doses, np.nanmean(values, axis=0), "o-", ms=3, lw=1.2, color=colour, label=label)
            if len(same) > 1:
                axis.fill_between(doses, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color=colour,
                                  alpha=0.15, lw=0)
        for other in (s for s in sweeps if not any(s is t for t in same)):
            axes[0].plot(other.doses_e_per_A2, other.areas_px / (other.target_area_px or 1.0), "-", lw=0.6,
                         color=colour)
        halves = [s.dose_50_e_per_A2 for s in sweeps if s.dose_50_e_per_A2 is not None]
        if halves:
            axes[0].axvline(float(np.median(halves)), color=colour, ls=":", lw=1.4)
    axes[0].axhline(0.5, color="0.6", lw=0.8)
    axes[0].set_xscale("log")
    axes[0].set_ylabel("segmented area / target")
    axes[0].legend(fontsize=8, loc="best")
    axes[0].set_title(title or "segmented area vs frame dose (dotted: median 50 % dose)", fontsize=10)
    if with_truth:
        axes[1].set_ylabel("F1 (= Dice) vs true mask")
        axes[1].set_ylim(0, 1.02)
    axes[-1].set_xlabel("frame dose (e⁻/Å²); shaded: range over the test series")
    fig.tight_layout()
    return fig
