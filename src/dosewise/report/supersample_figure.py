"""Side-by-side PNG of a partial scan and its fills, for a microscopist to judge by eye."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from dosewise.io import atomic_write


def supersample_png(path: Path, panels: dict[str, np.ndarray], title: str) -> Path:
    """One panel per named image, all on the grey scale of the first (the partial scan)."""
    first = next(iter(panels.values()))
    low, high = np.percentile(first, [0.5, 99.5])
    fig = Figure(figsize=(3.2 * len(panels), 3.6))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, image) in zip(axes, panels.items()):
        ax.imshow(image, cmap="gray", vmin=low, vmax=high, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_axis_off()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path
