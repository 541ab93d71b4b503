"""One way to turn a user's ``seed`` into a generator, so every function seeds alike."""

from __future__ import annotations

import numpy as np

from dosewise.errors import InvalidParameterError

Seed = int | np.random.Generator | None


def as_generator(seed: Seed) -> np.random.Generator:
    """A ``Generator`` for ``seed``; a passed ``Generator`` is used (and advanced) as is."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed < 0:
        raise InvalidParameterError(f"seed must be an integer >= 0, got {seed}")
    return np.random.default_rng(seed)
