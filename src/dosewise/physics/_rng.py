"""One way to turn a user's ``seed`` into a generator, so every function seeds alike."""

from __future__ import annotations

import numpy as np

Seed = int | np.random.Generator | None


def as_generator(seed: Seed) -> np.random.Generator:
    """A ``Generator`` for ``seed``; a passed ``Generator`` is used (and advanced) as is."""
    return np.random.default_rng(seed)
