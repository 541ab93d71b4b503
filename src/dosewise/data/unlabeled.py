"""Unlabeled micrographs for pretraining: folder trees and simulator stores, lazily read.

Only the list of sources is held in memory (a path, or a store path and sample id),
so tens of thousands of files cost a few MB; each item is read when a batch needs it.
A file that cannot be read, or is smaller than the crop when ``small_images="skip"``,
is reported once and replaced by the next source, so one bad file never stops a
long pretraining run.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from dosewise.data.corruptions import CorruptionConfig, Corrupt, ScaleToUnit
from dosewise.data.datasets import PairDataset
from dosewise.data.normalise import Normalisation
from dosewise.data.transforms import Compose, RandomCrop, RandomFlipRotate
from dosewise.errors import DosewiseError, InputFileError, InvalidParameterError
from dosewise.io import SUPPORTED_SUFFIXES, DatasetStore, image_files, read_image

_MAX_SKIPS = 50


@dataclass(frozen=True)
class Source:
    """One unlabeled image: a file, or an array ``key`` of a store sample."""

    path: Path
    sample_id: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        return str(self.path) if self.sample_id is None else f"{self.path}:{self.sample_id}/{self.key}"


def find_sources(
    folders: Sequence[str | Path] = (),
    stores: Sequence[str | Path] = (),
    *,
    store_key: str = "noisy",
) -> list[Source]:
    """Every readable-looking file under ``folders`` (recursively, sorted) and every
    sample of ``stores``; a folder or store with nothing in it is an error."""
    sources: list[Source] = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise InputFileError("unlabeled image folder not found", folder)
        found = image_files(folder, recursive=True)
        if not found:
            raise InputFileError(
                f"no image files ({', '.join(sorted(SUPPORTED_SUFFIXES))}) under this folder", folder
            )
        sources += [Source(path) for path in found]
    for store_path in map(Path, stores):
        store = DatasetStore.open(store_path)
        ids = store.ids()
        if not ids:
            raise InputFileError("dataset store has no complete samples", store_path)
        if store_key not in store.sample(ids[0]).names:
            raise InputFileError(f"store samples have no array {store_key!r}", store_path)
        sources += [Source(store_path, sample_id, store_key) for sample_id in ids]
    return sources


def read_source(source: Source, stores: dict[Path, DatasetStore]) -> np.ndarray:
    """The image of one source (the first frame of a stack); ``stores`` caches open stores."""
    if source.sample_id is None:
        data = read_image(source.path).data
        return data if data.ndim == 2 else data[0]
    store = stores.get(source.path)
    if store is None:  # not ``stores.get(...) or ...``: a store's truth value lists every sample
        store = stores[source.path] = DatasetStore.open(source.path)
    return store.sample(source.sample_id).array(source.key or "noisy")


def subset(sources: Sequence[Source], max_images: int | None, seed: int) -> list[Source]:
    """A seeded random subset of at most ``max_images`` (the pretraining-set size)."""
    if max_images is None or max_images >= len(sources):
        return list(sources)
    order = np.random.default_rng(seed).permutation(len(sources))[:max_images]
    return [sources[i] for i in sorted(order)]


def hold_out(sources: Sequence[Source], fraction: float, too_few: str) -> tuple[list[Source], list[Source]]:
    """(training, validation) sources: every k-th is held out, so validation spans all
    folders and stores; with fewer than 2 sources, ``too_few`` is the one-line error."""
    if len(sources) < 2:
        raise InvalidParameterError(too_few)
    n_val = min(max(1, round(len(sources) * fraction)), len(sources) - 1)
    stride = len(sources) / n_val
    val_index = {int(i * stride) for i in range(n_val)}
    return ([s for i, s in enumerate(sources) if i not in val_index],
            [sources[i] for i in sorted(val_index)])


def pretext_transform(crop_px: int, corruption: CorruptionConfig, *, train: bool) -> Compose:
    """Crop (random for training, central-ish seeded for validation), symmetries, scale, corrupt."""
    steps: list[Any] = [RandomCrop(crop_px)]
    if train:
        steps.append(RandomFlipRotate())
    return Compose([*steps, ScaleToUnit(), Corrupt(corruption)])


class UnlabeledDataset(PairDataset):
    """(corrupted crop, clean crop) pairs from unlabeled sources, read lazily."""

    def __init__(
        self,
        sources: Sequence[Source],
        crop_px: int,
        corruption: CorruptionConfig,
        *,
        train: bool = True,
        small_images: Literal["pad", "skip"] = "pad",
        normalisation: Normalisation | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(pretext_transform(crop_px, corruption, train=train), normalisation, seed)
        if not sources:
            raise InputFileError("no unlabeled images to train on", Path("."))
        self.sources = list(sources)
        self.crop_px = crop_px
        self.small_images = small_images
        self._reported: set[str] = set()
        self._stores: dict[Path, DatasetStore] = {}

    def __len__(self) -> int:
        return len(self.sources)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_stores"] = {}
        return state

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        for step in range(min(_MAX_SKIPS, len(self.sources))):
            source = self.sources[(index + step) % len(self.sources)]
            image = self._read(source)
            if image is not None:
                return image, image[None]
        raise InputFileError(f"{_MAX_SKIPS} unlabeled images in a row could not be used",
                             self.sources[index].path)

    def _read(self, source: Source) -> np.ndarray | None:
        try:
            data = read_source(source, self._stores)
        except DosewiseError as exc:
            self._report(source, f"skipped: {exc}")
            return None
        image = np.asarray(data, dtype=np.float32)
        if image.ndim != 2 or not np.isfinite(image).all():
            self._report(source, "skipped: not one finite 2-D image")
            return None
        if self.small_images == "skip" and min(image.shape) < self.crop_px:
            self._report(source, f"skipped: {image.shape} is smaller than the {self.crop_px} px crop")
            return None
        return image

    def _report(self, source: Source, message: str) -> None:
        if str(source) not in self._reported:
            self._reported.add(str(source))
            warnings.warn(f"{source}: {message}", stacklevel=3)
