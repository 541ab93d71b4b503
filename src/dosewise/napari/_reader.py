"""Open DM3/DM4, EMD, SER and MRC files as napari image layers scaled in nm (what the scale bar
and measurements then show), through dosewise's readers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dosewise.errors import DosewiseError
from dosewise.io import read_image
from dosewise.units import A_to_nm

SUFFIXES = (".dm3", ".dm4", ".emd", ".ser", ".mrc", ".mrcs")

LayerData = tuple[Any, dict[str, Any], str]


def get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerData]] | None:
    """napari's reader hook: our reader for the vendor suffixes, else None (another plugin reads it)."""
    paths = [path] if isinstance(path, str) else list(path)
    if not paths or any(Path(p).suffix.lower() not in SUFFIXES for p in paths):
        return None
    return read_layers


def read_layers(path: str | list[str]) -> list[LayerData]:
    """One image layer per file: float32 data, ``scale`` in nm per pixel (1 per frame axis), the
    file's metadata; a file dosewise cannot read raises its one-line message (napari shows it)."""
    layers = []
    for one in [path] if isinstance(path, str) else path:
        try:
            image = read_image(one)
        except DosewiseError as error:
            raise ValueError(str(error)) from None
        scale_nm = A_to_nm(image.pixel_size_A) if image.pixel_size_A is not None else 1.0
        scale = (1.0,) * (image.data.ndim - 2) + (scale_nm, scale_nm)
        layers.append((image.data, {"name": Path(one).stem, "scale": scale,
                                    "units": "nm" if image.pixel_size_A is not None else "pixel",
                                    "metadata": {"dosewise_source": str(one), "pixel_size_A": image.pixel_size_A,
                                                 **{k: v for k, v in image.metadata.items() if k != "original_metadata"}}},
                       "image"))
    return layers
