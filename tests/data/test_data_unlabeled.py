"""Unlabeled micrograph folders: lazy listing, mixed formats, small and broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from dosewise.data.corruptions import CorruptionConfig
from dosewise.data.unlabeled import UnlabeledDataset, find_sources, subset
from dosewise.errors import InputFileError


@pytest.fixture()
def micrograph_tree(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    (tmp_path / "a" / "deeper").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    tifffile.imwrite(tmp_path / "a" / "one.tif", rng.poisson(20, (80, 90)).astype(np.uint16))
    np.save(tmp_path / "a" / "deeper" / "two.npy", rng.random((70, 70)).astype(np.float32))
    np.save(tmp_path / "b" / "small.npy", rng.random((20, 20)).astype(np.float32))
    (tmp_path / "b" / "broken.tif").write_bytes(b"not a tiff")
    (tmp_path / "b" / "notes.txt").write_text("ignored")
    return tmp_path


def test_sources_are_found_recursively_by_suffix(micrograph_tree: Path) -> None:
    names = [s.path.name for s in find_sources([micrograph_tree])]
    assert names == ["two.npy", "one.tif", "broken.tif", "small.npy"]  # sorted paths: a/deeper < a/one
    assert len(subset(find_sources([micrograph_tree]), 2, seed=0)) == 2


def test_empty_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no image files"):
        find_sources([tmp_path])


def test_small_images_are_padded_or_skipped_and_broken_files_skipped(micrograph_tree: Path) -> None:
    sources = find_sources([micrograph_tree])
    padded = UnlabeledDataset(sources, 32, CorruptionConfig(), small_images="pad")
    x, y = padded[3]  # small.npy, 20 px, reflection-padded to 32
    assert x.shape == y.shape == (1, 32, 32)
    skipping = UnlabeledDataset(sources, 32, CorruptionConfig(), small_images="skip")
    with pytest.warns(UserWarning, match="small.npy.*smaller than the 32 px crop"):
        x, _ = skipping[3]  # wraps around to the next source (two.npy)
    with pytest.warns(UserWarning, match="broken.tif"):
        skipping[2]
    assert x.shape == (1, 32, 32)


def test_items_are_seeded_and_target_is_the_clean_crop(micrograph_tree: Path) -> None:
    dataset = UnlabeledDataset(find_sources([micrograph_tree])[:2], 48, CorruptionConfig(kind="poisson"), seed=3)
    (x1, y1), (x2, y2) = dataset[(0, 1)], dataset[(0, 1)]
    assert np.array_equal(x1.numpy(), x2.numpy()) and np.array_equal(y1.numpy(), y2.numpy())
    assert not np.array_equal(dataset[(1, 1)][1].numpy(), y1.numpy())  # another epoch, another crop
    assert abs(float(np.percentile(y1.numpy(), 50)) - 0.5) < 0.5  # target on the [0, 1]-like scale


def test_reading_from_a_cached_store_never_lists_its_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing a store reads one file per sample: per crop, it made training 45x slower."""
    from dosewise.data.unlabeled import Source, read_source
    from dosewise.io import DatasetStore

    store = DatasetStore.create(tmp_path / "s.zarr")
    for index in range(3):
        store.write_sample(f"x{index}", {"noisy": np.full((8, 8), index, np.float32)}, {})
    cache: dict = {}
    first = read_source(Source(tmp_path / "s.zarr", "x1"), cache)
    monkeypatch.setattr(DatasetStore, "ids", lambda self: pytest.fail("a store was listed"))
    again = read_source(Source(tmp_path / "s.zarr", "x2"), cache)
    assert first.mean() == 1 and again.mean() == 2
