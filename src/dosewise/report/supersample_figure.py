"""Supersampling figures: a partial scan beside its fills, and error against edge distance."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from dosewise.analysis.supersample_eval import SupersampleEvaluation
from dosewise.report.style import display_range


def supersample_figure(panels: dict[str, np.ndarray], title: str) -> Figure:
    """One panel per named image, all on the grey scale of the first (the partial scan), for
    a microscopist to judge the fills by eye."""
    low, high = display_range(next(iter(panels.values())))
    fig = Figure(figsize=(3.2 * len(panels), 3.6))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, image) in zip(axes, panels.items()):
        ax.imshow(image, cmap="gray", vmin=low, vmax=high, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_axis_off()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def edge_curve_figure(evaluation: SupersampleEvaluation) -> Figure:
    """Root MSE against distance from the image edge per method (Ede 2020, Fig. 8)."""
    curve = evaluation.edge_curve()
    distances = np.flatnonzero(evaluation.edge_count > 0)
    fig = Figure(figsize=(6, 3.8))
    ax = fig.subplots()
    for method in evaluation.methods:
        ax.plot(distances, curve[method], label=method, lw=1.2)
    ax.set(xlabel="distance from image edge (px)", ylabel="root MSE",
           title="error vs distance from the edge (Ede 2020, Fig. 8)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
