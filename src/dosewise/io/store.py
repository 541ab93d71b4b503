"""Many labelled images (clean/noisy/mask + parameters) in one zarr 3 store.

Layout::

    <store>/zarr.json              store-level attrs (DatasetStore.attrs)
    <store>/samples/zarr.json      {"dosewise_store_version": 1}
    <store>/samples/<id>/<name>    float32 / uint8 arrays, one chunk per 2-D image
    <store>/samples/<id>/zarr.json {"metadata": {...}, "complete": true}

Every sample is its own group, so worker processes writing distinct ids never
touch the same file and can write concurrently. The ``complete`` flag is
written last: a writer killed half-way leaves a sample that :meth:`DatasetStore.ids`
ignores and that the next :meth:`DatasetStore.write_sample` replaces. Reading is
lazy: only small JSON files are read until an array is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from dosewise.errors import InputFileError, InvalidParameterError, OutputFileError
from dosewise.io.messages import one_line_reason
from dosewise.io.metadata import strict_json

STORE_VERSION = 1
_VERSION_KEY = "dosewise_store_version"
_SAMPLES = "samples"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MAX_SINGLE_CHUNK_PX = 1024 * 1024
_TILE_PX = 256


class Sample:
    """One complete sample: ``metadata`` is read at once, arrays only when asked for."""

    def __init__(self, sample_id: str, group: zarr.Group, store_path: Path) -> None:
        self.id = sample_id
        self._group = group
        self._store_path = store_path
        self.metadata: dict[str, Any] = dict(group.attrs["metadata"])

    @property
    def names(self) -> list[str]:
        """Names of the stored arrays, sorted."""
        return sorted(self._group.array_keys())

    def array(self, name: str) -> np.ndarray:
        """Read one array from disk."""
        if name not in self.names:
            raise InvalidParameterError(
                f"sample {self.id!r} has no array {name!r}; it has {', '.join(self.names)}",
                self._store_path,
            )
        return self._group[name][...]

    def arrays(self) -> dict[str, np.ndarray]:
        """Read all arrays of the sample."""
        return {name: self.array(name) for name in self.names}

    def __repr__(self) -> str:
        return f"Sample({self.id!r}, arrays={self.names})"


class DatasetStore:
    """A zarr store of samples; make one with :meth:`create` or :meth:`open`.

    ``len(store)`` and ``iter(store)`` cover complete samples only, by sorted id.
    Workers should each :meth:`open` an existing store with ``mode="r+"``.
    """

    def __init__(self, path: Path, root: zarr.Group, writable: bool) -> None:
        self.path = path
        self._root = root
        self._samples = root[_SAMPLES]
        self._writable = writable

    @classmethod
    def create(
        cls, path: str | Path, attrs: Mapping[str, Any] | None = None, exist_ok: bool = True
    ) -> DatasetStore:
        """Create a store (or open an existing one for writing when ``exist_ok``).

        ``attrs`` are merged into the store-level attrs of an existing store.
        """
        path = Path(path)
        store_attrs = _json_or_raise(attrs or {}, "store attrs", path)
        if path.exists():
            if is_store(path):
                if not exist_ok:
                    raise OutputFileError("dataset store already exists", path)
                store = cls.open(path, mode="r+")
                if store_attrs:
                    store.attrs.update(store_attrs)
                return store
            if path.is_file() or any(path.iterdir()):
                raise OutputFileError("exists and is not a dosewise dataset store", path)
        try:
            root = zarr.open_group(str(path), mode="w", attributes=store_attrs)
            root.create_group(_SAMPLES, attributes={_VERSION_KEY: STORE_VERSION})
        except OSError as exc:
            raise OutputFileError(f"cannot create store: {one_line_reason(exc)}", path) from exc
        return cls(path, root, writable=True)

    @classmethod
    def open(cls, path: str | Path, mode: str = "r") -> DatasetStore:
        """Open an existing store, read-only (``"r"``) or for adding samples (``"r+"``)."""
        if mode not in ("r", "r+"):
            raise InvalidParameterError(f"mode must be 'r' or 'r+', got {mode!r}")
        path = Path(path)
        if not path.exists():
            raise InputFileError("dataset store not found", path)
        if not is_store(path):
            raise InputFileError("not a dosewise dataset store", path)
        return cls(path, zarr.open_group(str(path), mode=mode), writable=mode == "r+")

    @property
    def attrs(self) -> MutableMapping[str, Any]:
        """Store-level attrs; a live mapping (item assignment writes to disk)."""
        return self._root.attrs

    @attrs.setter
    def attrs(self, value: Mapping[str, Any]) -> None:
        self._require_writable()
        self._root.attrs.put(_json_or_raise(value, "store attrs", self.path))

    def write_sample(
        self, sample_id: str, arrays: Mapping[str, np.ndarray], metadata: Mapping[str, Any]
    ) -> None:
        """Write (or replace) one sample: arrays first, then metadata with ``complete``.

        Floating arrays are stored as float32, booleans as uint8; integer arrays
        (uint8 masks, label maps) keep their dtype.
        """
        self._require_writable()
        _check_name(sample_id, "sample id", self.path)
        if not arrays:
            raise InvalidParameterError(f"sample {sample_id!r} has no arrays", self.path)
        prepared = {name: _storable(name, array, self.path) for name, array in arrays.items()}
        attrs = {
            "metadata": _json_or_raise(metadata, f"metadata of sample {sample_id!r}", self.path),
            "complete": True,
        }
        group = self._samples.create_group(sample_id, overwrite=True)
        for name, array in prepared.items():
            group.create_array(name, data=array, chunks=_chunks(array.shape))
        group.attrs.put(attrs)

    def has(self, sample_id: str) -> bool:
        """Whether a complete sample with this id exists."""
        _check_name(sample_id, "sample id", self.path)
        try:
            group = self._samples[sample_id]
        except KeyError:
            return False
        return isinstance(group, zarr.Group) and group.attrs.get("complete") is True

    def ids(self) -> list[str]:
        """Ids of complete samples, sorted (reads one small JSON file per sample)."""
        return sorted(
            name for name, group in self._samples.groups() if group.attrs.get("complete") is True
        )

    def sample(self, sample_id: str) -> Sample:
        """One complete sample; its arrays are read only on access."""
        if not self.has(sample_id):
            raise InvalidParameterError(f"no complete sample {sample_id!r} in the store", self.path)
        return Sample(sample_id, self._samples[sample_id], self.path)

    def __len__(self) -> int:
        return len(self.ids())

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids())

    def __repr__(self) -> str:
        return f"DatasetStore({str(self.path)!r})"

    def _require_writable(self) -> None:
        if not self._writable:
            raise OutputFileError("store is open read-only; open it with mode='r+'", self.path)


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is a dosewise dataset store (a zarr folder in our layout)."""
    path = Path(path)
    if not path.is_dir():
        return False
    try:
        samples = zarr.open_group(str(path), mode="r")[_SAMPLES]
    except Exception:  # anything zarr cannot open as our layout is simply not a store
        return False
    return isinstance(samples, zarr.Group) and samples.attrs.get(_VERSION_KEY) == STORE_VERSION


def _check_name(name: object, what: str, path: Path) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameterError(
            f"{what} must be letters, digits, '.', '_' or '-' (not starting with "
            f"'.', '_' or '-'), got {name!r}",
            path,
        )


def _storable(name: str, array: np.ndarray, path: Path) -> np.ndarray:
    _check_name(name, "array name", path)
    array = np.asarray(array)
    if array.dtype.kind == "f":
        return array.astype(np.float32, copy=False)
    if array.dtype.kind == "b":
        return array.astype(np.uint8)
    if array.dtype.kind in "iu":
        return array
    raise InvalidParameterError(f"array {name!r} has unsupported dtype {array.dtype}", path)


def _chunks(shape: tuple[int, ...]) -> tuple[int, ...]:
    """One chunk per 2-D image (samples are read whole); 256x256 tiles above 1024x1024
    pixels so that reading a crop of a big image does not decompress all of it."""
    whole = tuple(max(1, n) for n in shape)
    if len(shape) < 2:
        return whole
    height, width = whole[-2:]
    if height * width > _MAX_SINGLE_CHUNK_PX:
        height, width = min(height, _TILE_PX), min(width, _TILE_PX)
    return (1,) * (len(shape) - 2) + (height, width)


def _json_or_raise(value: Mapping[str, Any], what: str, path: Path) -> dict[str, Any]:
    try:
        return strict_json(value)
    except TypeError as exc:
        raise InvalidParameterError(f"{what} are not JSON-able: {exc}", path) from exc
