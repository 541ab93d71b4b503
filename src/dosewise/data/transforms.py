"""Seeded augmentations applied identically to an (input, target) pair.

Every transform is a callable ``(input, target, rng) -> (input, target)`` on
``(C, H, W)`` float32 arrays that draws all its randomness from the numpy
``Generator`` it is given. Datasets make that generator from (seed, epoch, index),
so an augmented sample never depends on the worker that loads it or on
earlier interruptions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from dosewise.errors import InvalidParameterError
from dosewise.physics import shot_noise

Pair = tuple[np.ndarray, np.ndarray]


class PairTransform(Protocol):
    def __call__(self, image: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> Pair: ...


class Compose:
    """Apply transforms in order, all drawing from the same generator."""

    def __init__(self, transforms: Sequence[PairTransform]) -> None:
        self.transforms = list(transforms)

    def __call__(self, image: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> Pair:
        for transform in self.transforms:
            image, target = transform(image, target, rng)
        return image, target


class RandomCrop:
    """A random ``size`` x ``size`` window at the same place in both arrays.

    Images smaller than ``size`` are first padded by reflection (both arrays alike),
    so small micrographs can still be batched with large ones.
    """

    def __init__(self, size: int) -> None:
        if int(size) != size or size < 1:
            raise InvalidParameterError(f"crop size must be an integer >= 1, got {size}")
        self.size = int(size)

    def __call__(self, image: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> Pair:
        image, target = _pad_to(image, self.size), _pad_to(target, self.size)
        height, width = image.shape[-2:]
        top = int(rng.integers(0, height - self.size + 1))
        left = int(rng.integers(0, width - self.size + 1))
        window = (..., slice(top, top + self.size), slice(left, left + self.size))
        return image[window], target[window]


def _pad_to(array: np.ndarray, size: int) -> np.ndarray:
    pad_h = max(0, size - array.shape[-2])
    pad_w = max(0, size - array.shape[-1])
    if pad_h == 0 and pad_w == 0:
        return array
    widths = [(0, 0)] * (array.ndim - 2) + [
        (pad_h // 2, pad_h - pad_h // 2),
        (pad_w // 2, pad_w - pad_w // 2),
    ]
    return np.pad(array, widths, mode="reflect")


class RandomFlipRotate:
    """One of the 8 symmetries of the square (flips and 90° rotations), the same for both."""

    def __init__(self, flips: bool = True, rotations: bool = True) -> None:
        self.flips = flips
        self.rotations = rotations

    def __call__(self, image: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> Pair:
        turns = int(rng.integers(0, 4)) if self.rotations else 0
        flip = bool(rng.integers(0, 2)) if self.flips else False
        pair = []
        for array in (image, target):
            array = np.rot90(array, k=turns, axes=(-2, -1))
            if flip:
                array = array[..., ::-1]
            pair.append(np.ascontiguousarray(array))
        return pair[0], pair[1]


class ExtraNoise:
    """Replace a clean input (vacuum ≈ 1) by shot noise at a dose drawn log-uniformly.

    Counts ~ Poisson(dose_e_per_px * I) (Larsen et al. 2023, eq. 3 without MTF and readout),
    so one clean dataset trains a network for a whole range of doses. The counts
    are divided by the dose: the noisy input stays in the clean image's units, so a
    target scaled like the input (``DataConfig.target_scale="input"``) is the clean
    image itself, and scale-free normalisations (z-score, min-max) see no change.
    """

    def __init__(self, dose_e_per_px: tuple[float, float]) -> None:
        low, high = (float(d) for d in dose_e_per_px)
        if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
            raise InvalidParameterError(
                f"extra-noise dose range must be 0 < low <= high e-/px, got {dose_e_per_px}"
            )
        self.log_range = (math.log(low), math.log(high))

    def __call__(self, image: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> Pair:
        dose = math.exp(rng.uniform(*self.log_range))
        return shot_noise(image, dose, seed=rng) / np.float32(dose), target


def build_transform(
    crop_px: int | None = None,
    flips: bool = False,
    rotations: bool = False,
    extra_noise_dose_e_per_px: tuple[float, float] | None = None,
) -> Compose:
    """The usual training pipeline: crop, then symmetries, then noise (cheapest order)."""
    transforms: list[PairTransform] = []
    if crop_px is not None:
        transforms.append(RandomCrop(crop_px))
    if flips or rotations:
        transforms.append(RandomFlipRotate(flips=flips, rotations=rotations))
    if extra_noise_dose_e_per_px is not None:
        transforms.append(ExtraNoise(extra_noise_dose_e_per_px))
    return Compose(transforms)
