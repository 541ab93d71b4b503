"""Figures shared by the CLI, the demo and the reports (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from dosewise.report.style import display_range
from dosewise.physics import MTFFit, MTFParams, mtf_curve
from dosewise.physics.mtf_series import DEFAULT_MIN_R2, MTFSeriesFit


def montage(images: Sequence[np.ndarray], titles: Sequence[str], ncols: int | None = None) -> Figure:
    """A grid of grey images with titles, each scaled to its own robust range."""
    n = len(images)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(2.6 * ncols, 2.8 * nrows))
    for index, (image, title) in enumerate(zip(images, titles, strict=True)):
        ax = fig.add_subplot(nrows, ncols, index + 1)
        vmin, vmax = display_range(image)
        ax.imshow(image, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def mtf_fit_figure(fit: MTFFit, true_params: MTFParams | None = None, title: str = "") -> Figure:
    """Larsen et al. 2023, SOI Fig. 6/7 layout: raw spectrum with its fit, then the normalised
    eq. 1 MTF."""
    fig = Figure(figsize=(6.0, 6.4))
    top, bottom = fig.subplots(2, 1, sharex=True)
    q = np.asarray(fit.q_nyquist)
    q_fine = np.linspace(0.0, float(q.max()), 400)
    form = "eq. A.1" if fit.floor == "mtf" else "eq. 3 vacuum"
    top.plot(q, fit.amplitude, ".", ms=3, color="0.4", label="azimuthal amplitude spectrum")
    top.plot(q_fine, fit.model(q_fine), "-", color="C3", label=f"{form} fit, R² = {fit.r2:.3f}")
    top.set_ylabel("amplitude (e⁻/px)")
    top.legend(fontsize=8)
    if title:
        top.set_title(title, fontsize=10)
    bottom.plot(q, np.asarray(fit.amplitude) / fit.c1, ".", ms=3, color="0.4", label="spectrum / c1")
    fitted = mtf_curve(q_fine, fit.c0, fit.c3, fit.C)
    bottom.plot(
        q_fine, fitted, "-", color="C3",
        label=f"fitted: c0={fit.c0:.3f} c3={fit.c3:.2f} C={fit.C:.3f}",
    )
    if true_params is not None:
        bottom.plot(
            q_fine, mtf_curve(q_fine, true_params.c0, true_params.c3, true_params.C), "--", color="C0",
            label=f"true: c0={true_params.c0:.3f} c3={true_params.c3:.2f} C={true_params.C:.3f}",
        )
    bottom.set_xlabel("spatial frequency q / q_Nyquist")
    bottom.set_ylabel("MTF (eq. 1)")
    bottom.set_ylim(0, 1.1)
    bottom.legend(fontsize=8)
    fig.tight_layout()
    return fig


def readout_fit_figure(
    doses_e_per_px: Sequence[float], fitted_C: Sequence[float], n0_fit: float, n0_true: float | None = None,
    *, squared: bool = False, r2: float | None = None, title: str = "",
) -> Figure:
    """Larsen et al. 2023, Fig. 6: the MTF tail C (or C², ``squared``) against dose per pixel,
    with eq. 2."""
    fig = Figure(figsize=(5.5, 3.8))
    ax = fig.add_subplot(1, 1, 1)
    doses = np.asarray(doses_e_per_px, dtype=float)
    fine = np.geomspace(doses.min(), doses.max(), 200)
    power = 1.0 if squared else 0.5
    name = "C²" if squared else "C"
    fit_label = f"eq. 2 fit, N0 = {n0_fit:.4g}" + (f", R² = {r2:.3f}" if r2 is not None else "")
    ax.semilogx(doses, np.asarray(fitted_C, dtype=float) ** (2 * power), "o", color="0.3",
                label=f"{name} fitted per frame")
    ax.semilogx(fine, (n0_fit / (n0_fit + fine)) ** power, "-", color="C3", label=fit_label)
    if n0_true is not None:
        ax.semilogx(fine, (n0_true / (n0_true + fine)) ** power, "--", color="C0", label=f"true N0 = {n0_true:.4g}")
    ax.set_xlabel("frame dose N_D (e⁻/px)")
    ax.set_ylabel(f"{name} = N0 / (N0 + N_D)" if squared else "C")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def mtf_vs_dose_figure(series: MTFSeriesFit, *, min_r2: float = DEFAULT_MIN_R2, title: str = "") -> Figure:
    """Larsen et al. 2023, Fig. 5: fitted c0, c3 and C of every frame against frame dose (log axis).

    Fits with R² >= ``min_r2`` carry a white dot; the orange line is the mean over all frames.
    Dose in e⁻/Å² when the pixel size is known, else in e⁻/px.
    """
    rows = series.rows()
    per_A2 = all(r["dose_e_per_A2"] is not None for r in rows)
    doses = np.array([r["dose_e_per_A2"] if per_A2 else r["dose_e_per_px"] for r in rows], dtype=float)
    good = np.array([r["r2"] >= min_r2 for r in rows])
    fig = Figure(figsize=(6.0, 7.2))
    axes = fig.subplots(3, 1, sharex=True)
    for ax, key, label in zip(axes, ("c0", "c3", "C"), ("c0 (q / q_N)", "c3", "C"), strict=True):
        values = np.array([r[key] for r in rows], dtype=float)
        ax.semilogx(doses, values, "o", ms=5, color="C0", label="fitted per frame")
        ax.semilogx(doses[good], values[good], "o", ms=2, color="white", mec="C0", label=f"R² ≥ {min_r2:g}")
        ax.axhline(float(values.mean()), color="C1", lw=1.2, label=f"mean {values.mean():.3g}")
        ax.set_ylabel(label)
        ax.legend(fontsize=7, loc="best")
    axes[-1].set_xlabel("frame dose (e⁻/Å²)" if per_A2 else "frame dose (e⁻/px)")
    form = "eq. A.1" if series.floor == "mtf" else "eq. 3 vacuum"
    axes[0].set_title(title or f"MTF fits ({form}) against frame dose", fontsize=10)
    fig.tight_layout()
    return fig
