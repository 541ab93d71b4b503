"""Turn vendor metadata into plain JSON values.

EMImage.metadata ends up in JSON reports and zarr attrs, so numpy scalars,
bytes and nested vendor trees are converted here; readers drop what has no
JSON form, while the dataset store refuses it so nothing is silently lost.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path, PurePath
from typing import Any

import numpy as np

_DROP = object()
_MAX_LIST_ITEMS = 64  # longer arrays in vendor trees are data (thumbnails, LUTs), not metadata


def _convert(value: Any, strict: bool) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isfinite(number):
            return number
        if strict:
            raise TypeError(f"non-finite number {number} has no JSON form")
        return None
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            converted = _convert(item, strict)
            if converted is not _DROP:
                out[str(key)] = converted
        return out
    if isinstance(value, np.ndarray):
        if not strict and value.size > _MAX_LIST_ITEMS:
            return _DROP
        return _convert(value.tolist(), strict)
    if isinstance(value, (list, tuple)):
        if not strict and len(value) > _MAX_LIST_ITEMS:
            return _DROP
        items = [_convert(item, strict) for item in value]
        return [item for item in items if item is not _DROP]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if not strict and isinstance(value, (bytes, np.bytes_)):
        try:
            return bytes(value).decode("utf-8").rstrip("\x00")
        except UnicodeDecodeError:
            return _DROP
    if strict:
        raise TypeError(f"{type(value).__name__} value {value!r} has no JSON form")
    return _DROP


def jsonable(value: Mapping[str, Any]) -> dict[str, Any]:
    """Best-effort JSON copy of a vendor metadata tree (drops blobs and long arrays)."""
    return _convert(value, strict=False)


def strict_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """JSON copy of user metadata; numpy scalars are converted, anything else raises TypeError."""
    return _convert(value, strict=True)


def processing_record(operation: str, model: str | PurePath | None = None, *,
                      dose_e_per_A2: float | None = None, **settings: Any) -> dict[str, Any]:
    """One dosewise step as it is recorded in every output (TIFF ``Info``, ``.hspy`` and hyperspy
    ``metadata.Processing.dosewise``): what ran, with which weights (name and SHA-256, so a
    result traces to the exact file), at which dose when known, when, with which settings."""
    record: dict[str, Any] = {"operation": operation, "dosewise_version": version("dosewise")}
    if model is not None:
        path = Path(model)
        record["model"] = path.name
        record["model_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    record["dose_e_per_A2"] = dose_e_per_A2
    record["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return {**record, **jsonable(settings)}


def provenance(source_metadata: Mapping[str, Any], source: str | PurePath | None,
               record: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata an output carries: the source file's (title, vendor metadata and
    ``original_metadata`` as read) and the dosewise steps, earlier ones of the source first."""
    signal_metadata = dict(source_metadata.get("signal_metadata") or {})
    earlier = list(source_metadata.get("processing") or (signal_metadata.get("Processing") or {}).get("dosewise")
                   or [])
    return jsonable({
        "source": str(source) if source is not None else None,
        "title": source_metadata.get("title") or (str(PurePath(source).stem) if source is not None else ""),
        "signal_metadata": signal_metadata,
        "original_metadata": source_metadata.get("original_metadata") or {},
        "processing": [*earlier, dict(record)],
    })
