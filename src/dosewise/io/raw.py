"""What a format reader hands back before validation and float conversion."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class RawImage:
    """Pixels in the file's own dtype plus calibration and metadata.

    ``channels_last`` marks a trailing colour axis (RGB(A), gray+alpha) that
    :func:`dosewise.io.read_image` turns into gray and ``read_mask`` into labels.
    ``format`` overrides the suffix-derived name (an ``.hdf5`` file written by
    HyperSpy is reported as ``"hspy"``).
    """

    data: np.ndarray
    pixel_size_A: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    channels_last: bool = False
    format: str | None = None
