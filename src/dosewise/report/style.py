"""One look for every figure dosewise writes: resolution, PNG encoding, display range.

Figures are built as :class:`matplotlib.figure.Figure` objects directly (never pyplot),
so drawing needs no display and never switches a notebook user's matplotlib backend.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from dosewise.io import atomic_write

DPI = 110
DISPLAY_PERCENTILES: tuple[float, float] = (0.5, 99.5)
"""Grey images are shown on this robust range, so a few hot pixels do not wash them out."""


def save_png(path: str | Path, fig: Figure, *, inputs: Iterable[str | Path] = ()) -> Path:
    """Write a figure as PNG atomically, refusing to overwrite any of ``inputs``."""
    with atomic_write(path, inputs=inputs) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight")
    return Path(path)


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (for embedding in an HTML page)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def display_range(image: np.ndarray) -> tuple[float, float]:
    """The robust grey range of ``image``; never empty, so a flat image still displays."""
    lo, hi = (float(v) for v in np.percentile(image, DISPLAY_PERCENTILES))
    if hi <= lo:
        lo, hi = float(np.min(image)), float(np.max(image))
    return lo, (hi if hi > lo else lo + 1.0)
