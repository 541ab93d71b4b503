"""Datasets and loaders for a :class:`TrainConfig`: split by structure, augment train only.

Training batches come from an :class:`~dosewise.data.EpochSampler`, so order and
augmentation depend only on (seed, epoch, index): the same with any number of
workers and after a resume. Validation runs on whole images, one per batch,
since folder datasets may mix image sizes.
"""

from __future__ import annotations

import dataclasses

import lightning.pytorch as pl
import numpy as np
from torch.utils.data import DataLoader

from dosewise.data import (
    EpochSampler,
    FolderPairsDataset,
    PairDataset,
    Split,
    StoreRestorationDataset,
    StoreSegmentationDataset,
    build_transform,
    match_pairs,
    split_ids,
)
from dosewise.io import DatasetStore
from dosewise.config.training import TrainConfig


def dataset_ids(config: TrainConfig) -> list[str]:
    """All sample ids (store) or pair names (folders) the config points at."""
    data = config.data
    if data.store is not None:
        return DatasetStore.open(data.store).ids()
    return [key for key, _, _ in match_pairs(data.images_dir, data.masks_dir)]


def split_for(config: TrainConfig) -> Split:
    """The deterministic train/val/test split of the config's data; with
    ``max_train_samples`` the training part is a seeded subset of the full split's."""
    data = config.data
    if data.val_images_dir is not None:  # explicit validation pairs: every training pair trains
        val = [key for key, _, _ in match_pairs(data.val_images_dir, data.val_masks_dir)]
        split = Split(train=dataset_ids(config), val=val, test=[])
    else:
        split = split_ids(dataset_ids(config), data.val_fraction, data.test_fraction, data.split_seed)
    limit = data.max_train_samples
    if limit is not None and limit < len(split.train):
        keep = np.random.default_rng(data.split_seed).permutation(len(split.train))[:limit]
        split = dataclasses.replace(split, train=[split.train[i] for i in sorted(keep)])
    return split


def make_dataset(config: TrainConfig, ids: list[str], *, train: bool) -> PairDataset:
    """The dataset over ``ids``; only training data is cropped, flipped and re-noised.

    Validation still gets the extra noise (at a fixed draw per image) when the
    config asks for it, since the inputs are then clean images.
    """
    data = config.data
    noise = data.extra_noise_dose_e_per_px
    transform = (
        build_transform(data.crop_px, data.flips, data.rotations, noise)
        if train
        else build_transform(extra_noise_dose_e_per_px=noise)
    )
    if train:  # each repeat is its own index, so its own random crop
        ids = [i for i in ids for _ in range(data.repeats)]
    common = {"ids": ids, "transform": transform, "normalisation": data.normalisation,
              "seed": config.seed}
    if config.task == "restore":
        return StoreRestorationDataset(data.store, data.input, data.target,
                                       target_scale=data.target_scale, **common)
    if data.store is not None:
        return StoreSegmentationDataset(data.store, data.input, data.target,
                                        class_id=data.class_id, **common)
    if not train and data.val_images_dir is not None:
        return FolderPairsDataset(data.val_images_dir, data.val_masks_dir, class_id=data.class_id, **common)
    return FolderPairsDataset(data.images_dir, data.masks_dir, class_id=data.class_id, **common)


class PairDataModule(pl.LightningDataModule):
    """Train and validation loaders for one config."""

    def __init__(self, config: TrainConfig) -> None:
        super().__init__()
        self.config = config
        self.split = split_for(config)
        self.train_set = make_dataset(config, self.split.train, train=True)
        self.val_set = make_dataset(config, self.split.val, train=False)

    def train_dataloader(self) -> DataLoader:
        # Lightning creates the first iterator (and worker prefetch) before calling set_epoch,
        # so start the sampler at the epoch Lightning will set: the processed-epoch count,
        # which (unlike current_epoch) already counts an epoch whose end a resumed
        # checkpoint was saved in.
        epoch = self.trainer.fit_loop.epoch_progress.current.processed if self.trainer else 0
        sampler = EpochSampler(len(self.train_set), seed=self.config.seed, epoch=epoch)
        return self._loader(self.train_set, sampler, self.config.batch_size)

    def val_dataloader(self) -> DataLoader:
        sampler = EpochSampler(len(self.val_set), shuffle=False)
        return self._loader(self.val_set, sampler, 1)

    def _loader(self, dataset: PairDataset, sampler: EpochSampler, batch_size: int) -> DataLoader:
        workers = self.config.num_workers
        return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                          persistent_workers=workers > 0, pin_memory=False)
