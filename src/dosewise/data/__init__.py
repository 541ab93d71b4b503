"""Training data: (input, target) pairs from labelled stores, image/mask folders, denoising
exposure pairs, unlabeled micrographs (pretext corruptions) and full scans (partial-scan
pairs); seeded augmentation, splits by structure, and the input normalisation that training
and inference share.

The names below are imported on first use: :mod:`dosewise.data.corruptions` (and its
:class:`~dosewise.data.corruptions.CorruptionKind`, a command-line choice) loads without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dosewise.lazy import lazy_exports

if TYPE_CHECKING:
    from dosewise.data.datasets import (
        FolderPairsDataset,
        PairDataset,
        StoreRestorationDataset,
        StoreSegmentationDataset,
        binary_mask,
        match_pairs,
        pair_key,
    )
    from dosewise.data.normalise import Normalisation
    from dosewise.data.sampler import EpochSampler
    from dosewise.data.splits import Split, group_of, split_ids
    from dosewise.data.transforms import (
        Compose,
        ExtraNoise,
        PairTransform,
        RandomCrop,
        RandomFlipRotate,
        build_transform,
    )

_HOMES = {
    "Compose": "transforms",
    "EpochSampler": "sampler",
    "ExtraNoise": "transforms",
    "FolderPairsDataset": "datasets",
    "Normalisation": "normalise",
    "PairDataset": "datasets",
    "PairTransform": "transforms",
    "RandomCrop": "transforms",
    "RandomFlipRotate": "transforms",
    "Split": "splits",
    "StoreRestorationDataset": "datasets",
    "StoreSegmentationDataset": "datasets",
    "binary_mask": "datasets",
    "build_transform": "transforms",
    "group_of": "splits",
    "match_pairs": "datasets",
    "pair_key": "datasets",
    "split_ids": "splits",
}

__all__ = [
    "Compose",
    "EpochSampler",
    "ExtraNoise",
    "FolderPairsDataset",
    "Normalisation",
    "PairDataset",
    "PairTransform",
    "RandomCrop",
    "RandomFlipRotate",
    "Split",
    "StoreRestorationDataset",
    "StoreSegmentationDataset",
    "binary_mask",
    "build_transform",
    "group_of",
    "match_pairs",
    "pair_key",
    "split_ids",
]


__getattr__ = lazy_exports(__name__, _HOMES)
