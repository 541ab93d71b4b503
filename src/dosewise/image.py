"""An image and what we know about it, kept together.

Arrays are float32; calibration and provenance travel with the array instead of
living in globals, so a pixel size read from a DM4 file reaches the dose
conversion without the user retyping it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class EMImage:
    """A micrograph (``(H, W)``) or a stack of frames (``(N, H, W)``) as float32.

    ``pixel_size_A`` is ``None`` when the file carries no calibration.
    ``original_dtype`` is the dtype stored in the file (before conversion).
    ``metadata`` holds anything else the reader found (vendor tags, doses, ...).
    """

    data: np.ndarray
    pixel_size_A: float | None = None
    source: Path | None = None
    original_dtype: str = "float32"
    format: str = "npy"
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def n_frames(self) -> int:
        return 1 if self.data.ndim == 2 else int(self.data.shape[0])

    def frame(self, index: int) -> EMImage:
        """One frame of a stack as its own image (same calibration)."""
        if self.data.ndim == 2:
            if index != 0:
                raise IndexError(index)
            return self
        return EMImage(
            data=self.data[index],
            pixel_size_A=self.pixel_size_A,
            source=self.source,
            original_dtype=self.original_dtype,
            format=self.format,
            metadata={**self.metadata, "frame_index": index},
        )
