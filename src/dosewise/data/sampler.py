"""A sampler that tells the dataset which epoch it is in.

It yields ``(epoch, index)`` keys, so a dataset can seed its augmentation per
(epoch, index) inside any worker process, and shuffles with a permutation that
depends only on (seed, epoch). A run resumed at epoch k therefore sees exactly
the batches an uninterrupted run sees at epoch k. Lightning calls
:meth:`set_epoch` each epoch (and forwards it through its DDP sampler wrapper).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler


class EpochSampler(Sampler[tuple[int, int]]):
    """All indices ``0..n-1`` once per epoch, shuffled by (seed, epoch) when ``shuffle``."""

    def __init__(self, n: int, *, seed: int = 0, shuffle: bool = True, epoch: int = 0) -> None:
        self.n = n
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = self.epoch
        if self.shuffle:
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(epoch,)))
            order = rng.permutation(self.n)
        else:
            order = np.arange(self.n)
        return iter([(epoch, int(i)) for i in order])
