"""Torch datasets of (input, target) pairs for segmentation and restoration.

Every item is ``(input, target)``: input ``(1, H, W)`` float32 normalised,
target ``(C, H, W)`` float32 (a binary mask for segmentation, an image for
restoration). Keys are an index or an ``(epoch, index)`` pair from
:class:`~dosewise.data.sampler.EpochSampler`; augmentation is seeded by
(seed, epoch, index). Stores are opened lazily and never pickled, so every
DataLoader worker opens its own handle.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from dosewise.data.normalise import Normalisation
from dosewise.data.transforms import PairTransform
from dosewise.errors import InputFileError, InvalidImageError
from dosewise.io import SUPPORTED_SUFFIXES, DatasetStore, read_image, read_mask

Key = int | tuple[int, int]


class PairDataset(Dataset[tuple[torch.Tensor, torch.Tensor]], ABC):
    """Shared item logic: load, augment with a per-(epoch, index) generator, normalise."""

    def __init__(
        self,
        transform: PairTransform | None = None,
        normalisation: Normalisation | None = None,
        seed: int = 0,
        target_scale: str = "stored",
    ) -> None:
        self.transform = transform
        self.normalisation = normalisation or Normalisation()
        self.seed = seed
        self.target_scale = target_scale

    @abstractmethod
    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The raw pair: input ``(H, W)`` and target ``(C, H, W)``, both float32."""

    @abstractmethod
    def __len__(self) -> int: ...

    def __getitem__(self, key: Key) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        if not 0 <= index < len(self):
            raise IndexError(index)
        image, target = self.load(index)
        image = image[None]
        if self.transform is not None:
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(epoch, index)))
            image, target = self.transform(image, target, rng)
        offset, scale = self.normalisation.affine(image)
        image = ((image - offset) / scale).astype(np.float32)
        if self.target_scale == "input":  # the target in the input's (normalised) units
            target = ((target - offset) / scale).astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(image)), torch.from_numpy(
            np.ascontiguousarray(target, dtype=np.float32)
        )


def binary_mask(labels: np.ndarray, class_id: int | None) -> np.ndarray:
    """``(1, H, W)`` float32: every non-zero label (``class_id=None``) or one class is 1."""
    on = labels > 0 if class_id is None else labels == class_id
    return on.astype(np.float32)[None]


def _check_pair(image: np.ndarray, target: np.ndarray, where: str, path: Path) -> None:
    if image.ndim != 2:
        raise InvalidImageError(
            f"{where}: input must be one 2-D image, got shape {image.shape}", path
        )
    if target.shape[-2:] != image.shape:
        raise InvalidImageError(
            f"{where}: target shape {target.shape[-2:]} differs from input shape {image.shape}",
            path,
        )


class _StoreDataset(PairDataset):
    """Samples of a :class:`~dosewise.io.DatasetStore`, read one at a time."""

    def __init__(
        self,
        store_path: str | Path,
        input: str,
        target: str,
        ids: Sequence[str] | None = None,
        transform: PairTransform | None = None,
        normalisation: Normalisation | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(transform, normalisation, seed)
        self.store_path = Path(store_path)
        self.input = input
        self.target = target
        self._store: DatasetStore | None = None
        self.ids = list(self.store.ids() if ids is None else ids)
        missing = [i for i in self.ids if not self.store.has(i)]
        if missing:
            raise InputFileError(
                f"{len(missing)} sample id(s) not in the store: {_listing(missing)}",
                self.store_path,
            )

    @property
    def store(self) -> DatasetStore:
        if self._store is None:
            self._store = DatasetStore.open(self.store_path)
        return self._store

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_store"] = None
        return state

    def __len__(self) -> int:
        return len(self.ids)

    def metadata(self, index: int) -> dict[str, Any]:
        """The stored metadata (dose, pixel size, ...) of item ``index``."""
        return self.store.sample(self.ids[index]).metadata

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        sample = self.store.sample(self.ids[index])
        image = sample.array(self.input).astype(np.float32, copy=False)
        target = self.target_array(sample.array(self.target))
        _check_pair(image, target, f"sample {sample.id!r}", self.store_path)
        return image, target

    @abstractmethod
    def target_array(self, array: np.ndarray) -> np.ndarray:
        """The stored target array as ``(C, H, W)`` float32."""


class StoreSegmentationDataset(_StoreDataset):
    """Input image and binary mask from a store (simulated HRTEM: "noisy" and "mask")."""

    def __init__(
        self,
        store_path: str | Path,
        input: str = "noisy",
        target: str = "mask",
        ids: Sequence[str] | None = None,
        *,
        class_id: int | None = None,
        transform: PairTransform | None = None,
        normalisation: Normalisation | None = None,
        seed: int = 0,
    ) -> None:
        self.class_id = class_id
        super().__init__(store_path, input, target, ids, transform, normalisation, seed)

    def target_array(self, array: np.ndarray) -> np.ndarray:
        return binary_mask(array, self.class_id)


class StoreRestorationDataset(_StoreDataset):
    """Input and target images from a store (e.g. "noisy" -> "clean"); the target keeps
    its stored scale (vacuum ≈ 1 for simulated clean images) unless ``target_scale`` is
    "input" (then it is normalised with the input's statistics)."""

    def __init__(
        self,
        store_path: str | Path,
        input: str = "noisy",
        target: str = "clean",
        ids: Sequence[str] | None = None,
        *,
        transform: PairTransform | None = None,
        normalisation: Normalisation | None = None,
        seed: int = 0,
        target_scale: str = "stored",
    ) -> None:
        super().__init__(store_path, input, target, ids, transform, normalisation, seed)
        self.target_scale = target_scale

    def target_array(self, array: np.ndarray) -> np.ndarray:
        return array.astype(np.float32)[None]


_TAG = re.compile(
    r"[_\-. ]+(image|images|img|input|raw|mask|masks|label|labels|seg|segmentation|gt|target"
    r"|low|high|lowdose|highdose|lde|hde|noisy|clean)$",
    re.IGNORECASE,
)
_MASK_TAG = re.compile(r"[_\-. ]+(mask|masks|label|labels|seg|segmentation|gt)$", re.IGNORECASE)
_MAX_LISTED = 10


def pair_key(path: Path) -> str:
    """The name two files share: the stem without a trailing ``_image``/``__mask``-like tag."""
    return _TAG.sub("", path.stem)


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    more = len(names) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _files_by_key(directory: Path, what: str, masks: bool | None = None) -> dict[str, Path]:
    """Readable files by pair key; ``masks`` True/False keeps only files with/without a mask tag
    (one folder holding both images and their masks)."""
    if not directory.is_dir():
        raise InputFileError(f"{what} directory not found", directory)
    files = sorted(
        p for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUPPORTED_SUFFIXES
        and (masks is None or bool(_MASK_TAG.search(p.stem)) == masks)
    )
    if not files:
        raise InputFileError(
            f"no {what} files ({', '.join(SUPPORTED_SUFFIXES)}) in the directory", directory
        )
    by_key: dict[str, list[Path]] = {}
    for path in files:
        by_key.setdefault(pair_key(path), []).append(path)
    clashes = [
        f"{key}: {', '.join(p.name for p in paths)}" for key, paths in by_key.items() if len(paths) > 1
    ]
    if clashes:
        raise InputFileError(f"several {what} files share a name: {_listing(clashes)}", directory)
    return {key: paths[0] for key, paths in by_key.items()}


def match_files(
    first_dir: str | Path, second_dir: str | Path, first: str, second: str, *, split_masks: bool = False
) -> list[tuple[str, Path, Path]]:
    """``(key, first_file, second_file)`` for every pair matched by name, sorted by key;
    unmatched files on either side are one error listing them. ``split_masks``: when both are
    one folder, the second files are those named like masks (``a_mask.png``), the first the rest."""
    first_dir, second_dir = Path(first_dir), Path(second_dir)
    same = split_masks and first_dir.resolve() == second_dir.resolve()
    firsts = _files_by_key(first_dir, first, masks=False if same else None)
    seconds = _files_by_key(second_dir, second, masks=True if same else None)
    lone_first = sorted(firsts[k].name for k in firsts.keys() - seconds.keys())
    lone_second = sorted(seconds[k].name for k in seconds.keys() - firsts.keys())
    if lone_first or lone_second:
        problems = []
        if lone_first:
            problems.append(
                f"{len(lone_first)} {first} file(s) without a {second} file in {second_dir}: "
                f"{_listing(lone_first)}"
            )
        if lone_second:
            problems.append(f"{len(lone_second)} {second} file(s) without a {first} file: {_listing(lone_second)}")
        raise InputFileError(f"{first} and {second} files do not pair up by name; " + "; ".join(problems), first_dir)
    return [(key, firsts[key], seconds[key]) for key in sorted(firsts)]


def match_pairs(images_dir: str | Path, masks_dir: str | Path) -> list[tuple[str, Path, Path]]:
    """``(key, image, mask)`` for every file pair, sorted by key; unmatched files are an error.
    Images and masks may share one folder when the masks' names say so (``a.tif``, ``a_mask.png``)."""
    return match_files(images_dir, masks_dir, "image", "mask", split_masks=True)


class FolderPairsDataset(PairDataset):
    """Images and masks in two folders, paired by file name stem, in any format dosewise reads.

    ``a.tif`` pairs with ``a.png``, ``a_mask.png`` or ``a__mask.tif``; ``a_image.dm4``
    pairs with ``a_mask.tif``. Masks become binary (any non-zero label, or ``class_id``).
    """

    def __init__(
        self,
        images_dir: str | Path,
        masks_dir: str | Path,
        ids: Sequence[str] | None = None,
        *,
        class_id: int | None = None,
        transform: PairTransform | None = None,
        normalisation: Normalisation | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(transform, normalisation, seed)
        self.class_id = class_id
        pairs = {key: (image, mask) for key, image, mask in match_pairs(images_dir, masks_dir)}
        unknown = [] if ids is None else [i for i in ids if i not in pairs]
        if unknown:
            raise InputFileError(f"no image/mask pair named {_listing(unknown)}", images_dir)
        self.ids = sorted(pairs) if ids is None else list(ids)
        self.pairs = [pairs[key] for key in self.ids]

    def __len__(self) -> int:
        return len(self.ids)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        image_path, mask_path = self.pairs[index]
        image = read_image(image_path).data
        if image.ndim != 2:
            raise InvalidImageError(f"expected one 2-D image, got shape {image.shape}", image_path)
        mask = binary_mask(read_mask(mask_path), self.class_id)
        _check_pair(image, mask, f"mask for {image_path.name}", mask_path)
        return image, mask
