"""Partial-scan training pairs made on the fly from full STEM images (Ede 2020, §II).

Each item is a random crop of a full scan, scaled to [0, 1] (Ede 2020's input
normalisation), given a random flip/rotation, then sub-sampled at a scan step drawn
from ``steps`` with a random lattice offset. Any full scan therefore yields pairs at
every coverage, and no image is ever stored twice. Training crops may also get the
artefacts of real scans (:mod:`dosewise.data.scan_degradations`) before sub-sampling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch

from dosewise.data.corruptions import CorruptionConfig
from dosewise.data.scan_degradations import ScanDegradations, degrade_scan, draw_zoom, zoom_to
from dosewise.data.transforms import Compose, RandomCrop, RandomFlipRotate
from dosewise.data.unlabeled import Source, UnlabeledDataset
from dosewise.errors import InvalidParameterError
from dosewise.physics.partial_scan import blur_target

PartialScanItem = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
"""(input (2, S, S): scan with zeros off the lattice and the mask; target (1, S, S); step)."""


def scale_to_unit(image: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1] (Ede 2020); a uniform image becomes 0.5, non-finite values 0 first."""
    arr = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = arr.min(), arr.max()
    if high - low <= 0:
        return np.full(arr.shape, 0.5, np.float32)
    return ((arr - low) / (high - low)).astype(np.float32)


def lattice_mask(shape: tuple[int, int], step: int, offset: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.float32)
    mask[offset[0] :: step, offset[1] :: step] = 1.0
    return mask


def network_input(image01: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The generators' (2, H, W) input: the scan with zeros where no probe landed, and the mask."""
    mask = (np.asarray(mask) > 0).astype(np.float32)
    return np.stack([np.asarray(image01, np.float32) * mask, mask])


class PartialScanDataset(UnlabeledDataset):
    """(input, target, step) items from full scans in folders and/or stores, read lazily.

    Training: random crop, flip/rotation, step drawn from ``steps``, random lattice offset.
    Validation (``train=False``): a crop fixed by the index, steps cycled through in turn,
    offset (0, 0) as in Ede 2020's protocol, so the validation loss is comparable between epochs.
    """

    def __init__(
        self,
        sources: Sequence[Source],
        crop_px: int,
        steps: Sequence[int],
        *,
        train: bool = True,
        target_blur_sigma_px: float = 2.5,
        small_images: Literal["pad", "skip"] = "pad",
        degradations: ScanDegradations | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(sources, crop_px, CorruptionConfig(), train=train, small_images=small_images,
                         seed=seed)
        self.degradations = degradations if train and degradations is not None else ScanDegradations(
            enabled=False)
        if not steps or min(steps) < 2 or max(steps) * 2 > crop_px:
            raise InvalidParameterError(
                f"scan steps {list(steps)} must be >= 2 and fit twice into the {crop_px} px crop"
            )
        self.steps = [int(s) for s in steps]
        self.train = train
        self.target_blur_sigma_px = target_blur_sigma_px
        self.transform = Compose([RandomCrop(crop_px), *([RandomFlipRotate()] if train else [])])

    def __getitem__(self, key: Any) -> PartialScanItem:  # type: ignore[override]
        epoch, index = key if isinstance(key, tuple) else (0, key)
        if not 0 <= index < len(self):
            raise IndexError(index)
        image = self.load(index)[0]
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(epoch, index)))
        zoom = draw_zoom(self.degradations, rng)
        if zoom != 1.0:  # cut the window that the zoom turns into one crop
            window = self.degradations.crop_window_px(self.crop_px, zoom)
            region, _ = RandomCrop(window)(image, image, rng)
            image = zoom_to(region, self.crop_px, rng)
        crop, _ = self.transform(image[None], image[None], rng)
        full = scale_to_unit(crop[0])
        if self.degradations.enabled:
            full = scale_to_unit(degrade_scan(full, self.degradations, rng))
        if self.train:
            step = int(rng.choice(self.steps))
            offset = (int(rng.integers(step)), int(rng.integers(step)))
        else:
            step, offset = self.steps[index % len(self.steps)], (0, 0)
        x = network_input(full, lattice_mask(full.shape, step, offset))
        target = blur_target(full, self.target_blur_sigma_px)[None]
        return torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(target)), torch.tensor(step)
