"""Training curves: one run's losses and metric, and a metric over runs of several seeds."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

Curves = dict[str, dict[int, float]]
"""``{metric: {epoch (0-based): value}}``, as collected from a run's logs."""


def training_curves_figure(curves: Curves, metric: str) -> Figure:
    """Train/val loss (left) and the monitored metric (right) against epoch."""
    fig = Figure(figsize=(9, 3.5))
    loss_ax, metric_ax = fig.subplots(1, 2)
    for ax, names in ((loss_ax, ("train/loss", "val/loss")), (metric_ax, (metric,))):
        for name in names:
            if name in curves:
                epochs = sorted(curves[name])
                ax.plot([e + 1 for e in epochs], [curves[name][e] for e in epochs], marker="o",
                        label=name)
        ax.set(xlabel="epoch", ylabel=names[-1].split("/")[-1])
        ax.legend()
    fig.tight_layout()
    return fig


def seed_curves_figure(curves: dict[tuple[str, str], list[dict[int, float]]], metric: str) -> Figure:
    """Validation ``metric`` per epoch for each (model, initialisation), mean over seeds with
    the min..max range shaded; random initialisation dashed (Kazimi et al. 2024, Figs. 6-9)."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for (model, init), runs in curves.items():
        epochs = sorted(set.intersection(*(set(r) for r in runs))) if runs and all(runs) else []
        if not epochs:
            continue
        values = np.array([[run[e] for e in epochs] for run in runs])
        x = np.array(epochs) + 1
        line, = ax.plot(x, values.mean(0), "--" if init == "R" else "-", label=f"{model} {init}")
        if len(runs) > 1:
            ax.fill_between(x, values.min(0), values.max(0), color=line.get_color(), alpha=0.15)
    ax.set(xlabel="epoch", ylabel=metric, title="validation during fine-tuning")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
