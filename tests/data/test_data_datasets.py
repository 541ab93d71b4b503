"""Store and folder datasets: shapes, dtypes, lazy worker-safe stores, name matching."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from dosewise.data import (
    FolderPairsDataset,
    StoreRestorationDataset,
    StoreSegmentationDataset,
    build_transform,
    pair_key,
)
from dosewise.errors import InputFileError, InvalidImageError
from dosewise.io import DatasetStore


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    store = DatasetStore.create(tmp_path / "s.zarr")
    for s in range(3):
        clean = rng.uniform(0.5, 1.0, (16, 16)).astype(np.float32)
        mask = (rng.integers(0, 3, (16, 16))).astype(np.uint8)
        store.write_sample(f"s{s:06d}_v000", {"clean": clean, "noisy": rng.poisson(20 * clean),
                                              "mask": mask}, {"dose_e_per_px": 20.0})
    return tmp_path / "s.zarr"


def test_store_segmentation_items(store: Path) -> None:
    data = StoreSegmentationDataset(store)
    assert len(data) == 3 and data.ids[0] == "s000000_v000"
    x, y = data[0]
    assert x.shape == y.shape == (1, 16, 16)
    assert x.dtype == y.dtype == torch.float32
    assert abs(float(x.mean())) < 1e-5
    mask = DatasetStore.open(store).sample("s000000_v000").array("mask")
    np.testing.assert_array_equal(y[0].numpy(), mask > 0)
    _, y2 = StoreSegmentationDataset(store, class_id=2)[0]
    np.testing.assert_array_equal(y2[0].numpy(), mask == 2)
    assert data.metadata(0)["dose_e_per_px"] == 20.0


def test_store_restoration_keeps_target_scale(store: Path) -> None:
    data = StoreRestorationDataset(store, ids=["s000002_v000"])
    x, y = data[0]
    clean = DatasetStore.open(store).sample("s000002_v000").array("clean")
    np.testing.assert_array_equal(y[0].numpy(), clean)
    assert x.shape == (1, 16, 16)


def test_store_dataset_pickles_without_an_open_store(store: Path) -> None:
    data = StoreSegmentationDataset(store, transform=build_transform(8, True, True), seed=3)
    before = data[(2, 1)]
    assert data._store is not None
    clone = pickle.loads(pickle.dumps(data))
    assert clone._store is None
    after = clone[(2, 1)]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    other_epoch = clone[(3, 1)]
    assert not np.array_equal(other_epoch[0].numpy(), before[0].numpy())


def test_unknown_ids_are_listed(store: Path) -> None:
    with pytest.raises(InputFileError, match="s000009_v000"):
        StoreSegmentationDataset(store, ids=["s000009_v000"])


def _write_pair(images: Path, masks: Path, image_name: str, mask_name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask = (rng.random((12, 10)) > 0.5).astype(np.uint8) * 255
    tifffile.imwrite(images / image_name, rng.random((12, 10)).astype(np.float32))
    Image.fromarray(mask).save(masks / mask_name)


@pytest.fixture()
def folders(tmp_path: Path) -> tuple[Path, Path]:
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    _write_pair(images, masks, "a.tif", "a_mask.png", 0)
    _write_pair(images, masks, "b__image.tif", "b__mask.png", 1)
    _write_pair(images, masks, "c_image.tif", "c.png", 2)
    (images / "notes.txt").write_text("ignored")
    return images, masks


def test_folder_pairs_match_by_stem(folders: tuple[Path, Path]) -> None:
    data = FolderPairsDataset(*folders)
    assert data.ids == ["a", "b", "c"]
    x, y = data[1]
    assert x.shape == y.shape == (1, 12, 10)
    expected = np.asarray(Image.open(folders[1] / "b__mask.png")) > 0
    np.testing.assert_array_equal(y[0].numpy(), expected)
    assert pair_key(Path("x-Mask.tiff")) == "x"


def test_images_and_masks_in_one_folder_pair_by_their_tags(tmp_path: Path) -> None:
    """A microscopist's folder of ``a.tif`` + ``a_mask.png``: the masks are told by their names."""
    for name, bright in (("a", 1), ("b", 2)):
        tifffile.imwrite(tmp_path / f"{name}.tif", np.full((6, 6), bright, np.float32))
        mask = np.zeros((6, 6), np.uint8)
        mask[:bright, :] = 255
        Image.fromarray(mask).save(tmp_path / f"{name}_mask.png")
    data = FolderPairsDataset(tmp_path, tmp_path)
    assert data.ids == ["a", "b"]
    assert [p[1].name for p in data.pairs] == ["a_mask.png", "b_mask.png"]
    assert int(data[1][1].sum()) == 12


def test_unmatched_files_are_listed(folders: tuple[Path, Path]) -> None:
    images, masks = folders
    tifffile.imwrite(images / "d.tif", np.ones((12, 10), np.float32))
    Image.fromarray(np.zeros((12, 10), np.uint8)).save(masks / "e_mask.png")
    with pytest.raises(InputFileError) as info:
        FolderPairsDataset(images, masks)
    message = str(info.value)
    assert "\n" not in message and "d.tif" in message and "e_mask.png" in message
    assert str(images) in message


def test_mask_of_other_shape_names_the_file(folders: tuple[Path, Path]) -> None:
    images, masks = folders
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(masks / "a_mask.png")
    with pytest.raises(InvalidImageError, match="a_mask.png"):
        FolderPairsDataset(images, masks)[0]
