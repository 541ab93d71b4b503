"""DatasetStore: create/append/reopen, lazy reads, incomplete samples, concurrent writers."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pytest
import zarr

from dosewise.errors import InputFileError, InvalidParameterError, OutputFileError
from dosewise.io import DatasetStore


def _sample(seed: int) -> tuple[dict[str, np.ndarray], dict]:
    rng = np.random.default_rng(seed)
    clean = rng.random((32, 24))
    arrays = {
        "clean": clean,
        "noisy": rng.poisson(clean * 5).astype(np.float32),
        "mask": clean > 0.5,
    }
    metadata = {
        "dose_e_per_A2": 10.0 * (seed + 1),
        "pixel_size_A": 0.8,
        "seed": np.int64(seed),
        "mtf": {"a": 0.7, "b": [0.1, 0.2]},
    }
    return arrays, metadata


def test_create_write_reopen(tmp_path):
    store = DatasetStore.create(tmp_path / "ds.zarr", attrs={"generator": "test", "version": 1})
    for seed in range(3):
        store.write_sample(f"s{seed:03d}", *_sample(seed))
    assert len(store) == 3

    reopened = DatasetStore.open(tmp_path / "ds.zarr")
    assert reopened.ids() == ["s000", "s001", "s002"] == list(reopened)
    assert reopened.attrs["generator"] == "test"
    assert reopened.has("s001") and not reopened.has("s999")
    sample = reopened.sample("s001")
    arrays, metadata = _sample(1)
    assert sample.metadata == {**metadata, "seed": 1}
    assert sample.names == ["clean", "mask", "noisy"]
    clean = sample.array("clean")
    assert clean.dtype == np.float32 and clean.shape == (32, 24)
    np.testing.assert_array_equal(clean, arrays["clean"].astype(np.float32))
    assert sample.array("mask").dtype == np.uint8
    assert set(sample.arrays()) == {"clean", "mask", "noisy"}
    with pytest.raises(InvalidParameterError, match="has no array 'truth'"):
        sample.array("truth")
    with pytest.raises(InvalidParameterError, match="no complete sample 'nope'"):
        reopened.sample("nope")


def test_append_and_attrs(tmp_path):
    path = tmp_path / "ds.zarr"
    DatasetStore.create(path, attrs={"a": 1}).write_sample("x", *_sample(0))
    again = DatasetStore.create(path, attrs={"b": 2})  # exist_ok: opens and merges attrs
    again.write_sample("y", *_sample(1))
    assert again.ids() == ["x", "y"]
    assert dict(again.attrs) == {"a": 1, "b": 2}
    again.attrs["c"] = 3
    again.attrs = {"only": True}
    assert dict(DatasetStore.open(path).attrs) == {"only": True}
    with pytest.raises(OutputFileError, match="already exists"):
        DatasetStore.create(path, exist_ok=False)


def test_read_only_store_refuses_writes(tmp_path):
    DatasetStore.create(tmp_path / "ds.zarr")
    store = DatasetStore.open(tmp_path / "ds.zarr")
    with pytest.raises(OutputFileError, match="read-only"):
        store.write_sample("x", *_sample(0))


def test_open_errors(tmp_path):
    with pytest.raises(InputFileError, match="dataset store not found"):
        DatasetStore.open(tmp_path / "missing.zarr")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputFileError, match="not a dosewise dataset store"):
        DatasetStore.open(tmp_path / "plain")
    zarr.open_group(str(tmp_path / "other.zarr"), mode="w")
    with pytest.raises(InputFileError, match="not a dosewise dataset store"):
        DatasetStore.open(tmp_path / "other.zarr")
    with pytest.raises(InvalidParameterError, match="mode must be"):
        DatasetStore.open(tmp_path / "other.zarr", mode="w")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputFileError, match="not a dosewise dataset store"):
        DatasetStore.create(tmp_path / "file.txt")


@pytest.mark.parametrize("bad", ["", "a/b", "../x", ".hidden", "sp ace"])
def test_bad_sample_ids(tmp_path, bad):
    store = DatasetStore.create(tmp_path / "ds.zarr")
    with pytest.raises(InvalidParameterError, match="sample id must be"):
        store.write_sample(bad, *_sample(0))


def test_bad_arrays_and_metadata(tmp_path):
    store = DatasetStore.create(tmp_path / "ds.zarr")
    with pytest.raises(InvalidParameterError, match="not JSON-able"):
        store.write_sample("x", {"a": np.ones((2, 2))}, {"when": object()})
    with pytest.raises(InvalidParameterError, match="unsupported dtype"):
        store.write_sample("x", {"a": np.array(["s", "t"])}, {})
    with pytest.raises(InvalidParameterError, match="has no arrays"):
        store.write_sample("x", {}, {})
    assert store.ids() == []


def test_incomplete_sample_is_ignored_and_replaced(tmp_path):
    store = DatasetStore.create(tmp_path / "ds.zarr")
    store.write_sample("done", *_sample(0))
    # Simulate a writer killed after the arrays but before the final attrs.
    group = zarr.open_group(str(tmp_path / "ds.zarr"), mode="r+")["samples"].create_group("half")
    group.create_array("stale", data=np.ones((4, 4), np.float32))
    assert store.ids() == ["done"] and len(store) == 1
    assert not store.has("half")
    store.write_sample("half", *_sample(1))
    assert store.ids() == ["done", "half"]
    assert store.sample("half").names == ["clean", "mask", "noisy"]  # stale array gone


def test_reading_is_lazy(tmp_path):
    """Metadata and ids must not touch array chunks: corrupt every chunk, then read."""
    path = tmp_path / "ds.zarr"
    store = DatasetStore.create(path)
    for seed in range(5):
        store.write_sample(f"s{seed}", *_sample(seed))
    chunks = [p for p in path.rglob("*") if p.is_file() and p.name != "zarr.json"]
    assert chunks
    for chunk in chunks:
        chunk.write_bytes(b"not a zstd frame")
    reopened = DatasetStore.open(path)
    assert len(reopened) == 5
    sample = reopened.sample("s3")
    assert sample.metadata["seed"] == 3 and sample.names == ["clean", "mask", "noisy"]
    with pytest.raises(RuntimeError, match="decompression"):
        sample.array("clean")  # only now are chunks read


def test_chunking_one_chunk_per_image_or_tiles(tmp_path):
    store = DatasetStore.create(tmp_path / "ds.zarr")
    store.write_sample("x", {"small": np.ones((3, 64, 48)), "big": np.zeros((1100, 1000))}, {})
    group = zarr.open_group(str(tmp_path / "ds.zarr"), mode="r")["samples/x"]
    assert group["small"].chunks == (1, 64, 48)
    assert group["big"].chunks == (256, 256)


def _write_samples(path: str, worker: int, n: int) -> None:
    store = DatasetStore.open(path, mode="r+")
    for i in range(n):
        store.write_sample(f"w{worker}-{i:02d}", *_sample(worker * 100 + i))


def test_concurrent_writers(tmp_path):
    path = tmp_path / "ds.zarr"
    DatasetStore.create(path, attrs={"purpose": "concurrency"})
    context = multiprocessing.get_context("spawn")  # zarr runs an event-loop thread: no fork
    workers = [context.Process(target=_write_samples, args=(str(path), w, 5)) for w in range(3)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=60)
        assert process.exitcode == 0
    store = DatasetStore.open(path)
    assert store.ids() == sorted(f"w{w}-{i:02d}" for w in range(3) for i in range(5))
    assert store.attrs["purpose"] == "concurrency"
    sample = store.sample("w2-04")
    arrays, _ = _sample(204)
    np.testing.assert_array_equal(sample.array("noisy"), arrays["noisy"])
    assert Path(store.path) == path
