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

from dosewise.errors import InputFileError, InvalidParameterError
from dosewise.io.calibration import pixel_sizes_from_axes, square_pixel_A
from dosewise.io.metadata import jsonable
from dosewise.io.raw import RawImage

RSCIIO_PLUGINS: dict[str, str] = {
    "dm3": "digitalmicrograph",
    "dm4": "digitalmicrograph",
    "emd": "emd",
    "ser": "tia",
    "hspy": "hspy",
}


def read_rsciio(path: Path, fmt: str, signal: str | int | None = None) -> RawImage:
    """Read a DM3/DM4, EMD (Velox or Berkeley), SER/EMI or HyperSpy file: the first image
    signal, or ``signal`` (its index in :func:`list_signals`, or its title)."""
    signals = _read_signals(path, fmt)
    index, chosen = _pick_image_signal(signals) if signal is None else _named_signal(signals, signal, path)
    return _raw_image(chosen, index, len(signals), fmt)


def list_signals(path: Path, fmt: str) -> list[dict[str, Any]]:
    """Index, title, kind (image, image stack, spectrum, ...) and shape of every signal of a
    vendor file, as ``dosewise info`` lists them for ``--signal``."""
    return [_describe_signal(index, signal) for index, signal in enumerate(_read_signals(path, fmt))]


def _read_signals(path: Path, fmt: str) -> list[dict[str, Any]]:
    plugin = importlib.import_module(f"rsciio.{RSCIIO_PLUGINS[fmt]}")
    signals = plugin.file_reader(str(path))
    if not signals:
        raise ValueError("the file holds no data")
    return signals


def _describe_signal(index: int, signal: dict[str, Any]) -> dict[str, Any]:
    signal_axes = sum(not ax.get("navigate", False) for ax in signal["axes"])
    shape = [int(n) for n in np.shape(signal["data"])]
    kind = {0: "single values", 1: "spectrum", 2: "image"}.get(signal_axes, f"{signal_axes}-D signal")
    if signal_axes == 2 and len(shape) > 2:
        kind = "image stack" if len(shape) == 3 else "4D-STEM or image map"
    elif signal_axes == 1 and len(shape) > 1:
        kind = "spectrum image"
    title = str(signal.get("metadata", {}).get("General", {}).get("title", ""))
    return {"index": index, "title": title, "kind": kind, "shape": shape}


def _named_signal(signals: list[dict[str, Any]], wanted: str | int, path: Path) -> tuple[int, dict[str, Any]]:
    """The signal ``wanted`` names (index or title), which must hold images; one-line errors
    that list what the file does hold."""
    described = [_describe_signal(i, s) for i, s in enumerate(signals)]
    listing = "; ".join(f"{d['index']} {d['title']!r} ({d['kind']})" for d in described)
    text = str(wanted).strip()
    matches = [i for i, d in enumerate(described) if (text.isdigit() and int(text) == i) or d["title"] == text]
    if not matches:
        raise InvalidParameterError(f"no signal {text!r} in the file; it holds: {listing}", path)
    index = matches[0]
    if described[index]["kind"] not in ("image", "image stack"):
        raise InvalidParameterError(f"signal {index} {described[index]['title']!r} is a "
                                    f"{described[index]['kind']}, not an image; the file holds: {listing}", path)
    return index, signals[index]


def _raw_image(signal: dict[str, Any], index: int, n_signals: int, fmt: str) -> RawImage:
    axes = _axes_in_array_order(signal["axes"])
    metadata: dict[str, Any] = {
        "title": str(signal.get("metadata", {}).get("General", {}).get("title", "")),
        "axes": [_describe_axis(ax) for ax in axes],
        "signal_metadata": jsonable(signal.get("metadata", {})),
        "original_metadata": jsonable(signal.get("original_metadata", {})),
    }
    sizes_yx_A = pixel_sizes_from_axes(axes)
    if sizes_yx_A is not None:
        metadata["pixel_size_yx_A"] = list(sizes_yx_A)
    if n_signals > 1:
        metadata["signal_index"] = index
        metadata["n_signals"] = n_signals
    return RawImage(
        data=np.asarray(signal["data"]),
        pixel_size_A=square_pixel_A(sizes_yx_A),
        metadata=metadata,
        format=fmt,
    )


def is_hyperspy_hdf5(path: Path) -> bool:
    with h5py.File(path, "r") as h5:
        return _attr_text(h5.attrs.get("file_format")) == "HyperSpy"


def read_hdf5(path: Path, signal: str | int | None = None) -> RawImage:
    """HyperSpy-written HDF5 goes to rsciio; any other HDF5 must hold exactly one image dataset."""
    with h5py.File(path, "r") as h5:
        if _attr_text(h5.attrs.get("file_format")) != "HyperSpy":
            if signal is not None:
                raise InvalidParameterError("--signal applies to files of several signals; this HDF5 "
                                            "file is read as its one image dataset", path)
            return _read_plain_hdf5(h5, path)
    return read_rsciio(path, "hspy", signal)


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
