"""Training data: (input, target) pairs from labelled stores, image/mask folders, denoising
exposure pairs, unlabeled micrographs (pretext corruptions) and full scans (partial-scan
pairs); seeded augmentation, splits by structure, and the input normalisation that training
and inference share."""

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
