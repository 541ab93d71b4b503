"""Figures shared by the CLI, the demo and the reports (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from dosewise.io import atomic_write  # noqa: E402
from dosewise.physics import MTFFit, MTFParams, mtf_curve  # noqa: E402


def save_png(path: Path, fig: Figure, *, inputs: Iterable[Path] = ()) -> Path:
    """Write a figure as PNG atomically, refusing to overwrite any of ``inputs``."""
    with atomic_write(path, inputs=inputs) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    return Path(path)


def _display_range(image: np.ndarray) -> tuple[float, float]:
    """Robust percentiles, so one hot pixel does not turn a noisy frame black."""
    lo, hi = np.percentile(image, [0.5, 99.5])
    return float(lo), float(hi if hi > lo else lo + 1.0)


def montage(images: Sequence[np.ndarray], titles: Sequence[str], ncols: int | None = None) -> Figure:
    """A grid of grey images with titles, each scaled to its own robust range."""
    n = len(images)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(2.6 * ncols, 2.8 * nrows))
    for index, (image, title) in enumerate(zip(images, titles, strict=True)):
        ax = fig.add_subplot(nrows, ncols, index + 1)
        vmin, vmax = _display_range(image)
        ax.imshow(image, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def mtf_fit_figure(fit: MTFFit, true_params: MTFParams | None = None, title: str = "") -> Figure:
    """Seed 003 SOI Fig. 6/7 layout: raw spectrum with its fit, then the normalised eq. 1 MTF."""
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
    doses_e_per_px: Sequence[float], fitted_C: Sequence[float], n0_fit: float, n0_true: float | None = None
) -> Figure:
    """Seed 003 Fig. 6: the MTF tail C against dose per pixel, with eq. 2 C² = N0/(N0+N_D)."""
    fig = Figure(figsize=(5.5, 3.8))
    ax = fig.add_subplot(1, 1, 1)
    doses = np.asarray(doses_e_per_px, dtype=float)
    fine = np.geomspace(doses.min(), doses.max(), 200)
    ax.semilogx(doses, fitted_C, "o", color="0.3", label="C fitted per frame")
    ax.semilogx(fine, np.sqrt(n0_fit / (n0_fit + fine)), "-", color="C3", label=f"eq. 2 fit, N0 = {n0_fit:.4g}")
    if n0_true is not None:
        ax.semilogx(fine, np.sqrt(n0_true / (n0_true + fine)), "--", color="C0", label=f"true N0 = {n0_true:.4g}")
    ax.set_xlabel("frame dose N_D (e⁻/px)")
    ax.set_ylabel("C")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
