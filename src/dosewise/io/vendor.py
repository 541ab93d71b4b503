"""Microscope vendor formats through rosettasciio, and plain HDF5 through h5py.

rosettasciio returns HyperSpy-style signal dicts (data, axes with scale/units,
metadata trees); this module picks the image signal, turns its axis calibration
into Å/px and keeps the vendor tags as JSON. rsciio is imported per call because
its plugins are slow to import and most runs read only TIFF/PNG.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from dosewise.errors import InputFileError
from dosewise.io.calibration import pixel_size_from_axes
from dosewise.io.metadata import jsonable
from dosewise.io.raw import RawImage

RSCIIO_PLUGINS: dict[str, str] = {
    "dm3": "digitalmicrograph",
    "dm4": "digitalmicrograph",
    "emd": "emd",
    "ser": "tia",
    "hspy": "hspy",
}


def read_rsciio(path: Path, fmt: str) -> RawImage:
    """Read a DM3/DM4, EMD (Velox or Berkeley), SER/EMI or HyperSpy file."""
    plugin = importlib.import_module(f"rsciio.{RSCIIO_PLUGINS[fmt]}")
    signals = plugin.file_reader(str(path))
    if not signals:
        raise ValueError("the file holds no data")
    index, signal = _pick_image_signal(signals)
    axes = _axes_in_array_order(signal["axes"])
    metadata: dict[str, Any] = {
        "title": str(signal.get("metadata", {}).get("General", {}).get("title", "")),
        "axes": [_describe_axis(ax) for ax in axes],
        "signal_metadata": jsonable(signal.get("metadata", {})),
        "original_metadata": jsonable(signal.get("original_metadata", {})),
    }
    if len(signals) > 1:
        metadata["signal_index"] = index
        metadata["n_signals"] = len(signals)
    return RawImage(
        data=np.asarray(signal["data"]),
        pixel_size_A=pixel_size_from_axes(axes),
        metadata=metadata,
        format=fmt,
    )


def read_hdf5(path: Path) -> RawImage:
    """HyperSpy-written HDF5 goes to rsciio; any other HDF5 must hold exactly one image dataset."""
    with h5py.File(path, "r") as h5:
        if _attr_text(h5.attrs.get("file_format")) != "HyperSpy":
            return _read_plain_hdf5(h5, path)
    return read_rsciio(path, "hspy")


def _read_plain_hdf5(h5: h5py.File, path: Path) -> RawImage:
    images: list[str] = []
    texts: dict[str, Any] = {}

    def visit(name: str, obj: object) -> None:
        if not isinstance(obj, h5py.Dataset):
            return
        if obj.ndim >= 2 and obj.dtype.kind in "biuf":
            images.append(name)
        elif obj.shape == () and obj.dtype.kind in "OSU":
            texts[name] = _parse_text(obj[()])

    h5.visititems(visit)
    if len(images) != 1:
        found = ", ".join(images) if images else "none"
        raise InputFileError(
            f"HDF5 file must hold exactly one image dataset (2-D or more), found: {found}", path
        )
    dataset = h5[images[0]]
    metadata: dict[str, Any] = {"dataset": images[0]}
    if texts:
        metadata["hdf5_text"] = jsonable(texts)
    if dataset.attrs:
        metadata["dataset_attrs"] = jsonable(dict(dataset.attrs))
    return RawImage(data=dataset[()], metadata=metadata, format="hdf5")


def _parse_text(value: object) -> object:
    """Scalar string datasets often hold JSON (AICrystallographer's ``metadata``)."""
    text = _attr_text(value)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _attr_text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _pick_image_signal(signals: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """The first signal with two signal (non-navigation) axes; files like Velox EMD also
    hold spectra. Falls back to the first signal when none is marked as an image."""
    for index, signal in enumerate(signals):
        if sum(not ax.get("navigate", False) for ax in signal["axes"]) == 2:
            return index, signal
    return 0, signals[0]


def _axes_in_array_order(axes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if all("index_in_array" in ax for ax in axes):
        return sorted(axes, key=lambda ax: int(ax["index_in_array"]))
    return list(axes)


def _describe_axis(axis: dict[str, Any]) -> dict[str, Any]:
    units = axis.get("units")
    name = axis.get("name")
    return {
        "name": name if isinstance(name, str) else None,
        "size": int(axis.get("size", 0)),
        "scale": float(axis.get("scale", 1.0)),
        "offset": float(axis.get("offset", 0.0)),
        "units": units if isinstance(units, str) else None,
    }
