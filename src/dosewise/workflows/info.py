"""The Python face of ``dosewise info``: what an image file holds, in one summary.

It exists so that a notebook gets exactly the numbers the command prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dosewise.io import list_signals, read_image


@dataclass(frozen=True)
class ImageInfo:
    """Shape, dtype, pixel size, value range and format of one image file."""

    file: str
    format: str
    shape: list[int]
    n_frames: int
    dtype: str
    pixel_size_A: float | None
    min: float
    max: float
    mean: float
    std: float
    signals: list[dict[str, Any]]
    """Every signal of the file (index, title, kind, shape): what ``--signal`` picks from."""

    def to_dict(self) -> dict[str, Any]:
        """The fields in order: the JSON object of ``dosewise info --json``."""
        return asdict(self)


def image_info(path: str | Path, signal: str | int | None = None) -> ImageInfo:
    """Read ``path`` (any supported format; ``signal`` of a multi-signal file) and summarise it."""
    image = read_image(path, signal=signal)
    data = image.data
    return ImageInfo(
        file=str(path),
        format=image.format,
        shape=list(image.shape),
        n_frames=image.n_frames,
        dtype=image.original_dtype,
        pixel_size_A=image.pixel_size_A,
        min=float(data.min()),
        max=float(data.max()),
        mean=float(data.mean()),
        std=float(data.std()),
        signals=list_signals(path),
    )
