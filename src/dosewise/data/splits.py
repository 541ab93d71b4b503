"""Deterministic train/val/test splits that never leak a structure across splits.

Simulated stores hold several variants (optics, dose, noise) of one atomic
structure, ids ``s000012_v003``; a network validated on another variant of a
structure it trained on would look better than it is, so whole structures go
to one split.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from dosewise.errors import InvalidParameterError

_VARIANT = re.compile(r"^(?P<group>.+)_v\d+$")


@dataclass(frozen=True)
class Split:
    """Sample ids per split, each list sorted."""

    train: list[str]
    val: list[str]
    test: list[str]


def group_of(sample_id: str) -> str:
    """The structure an id belongs to: the part before ``_v<digits>``, else the id itself."""
    match = _VARIANT.match(sample_id)
    return match.group("group") if match else sample_id


def split_ids(
    ids: Iterable[str], val_fraction: float = 0.2, test_fraction: float = 0.0, seed: int = 0
) -> Split:
    """Shuffle the structure groups with ``seed`` and deal whole groups to val, test, train.

    Each non-zero fraction gets at least one group, and train always keeps at
    least one; the result depends only on the set of ids and the seed.
    """
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 <= value < 1:
            raise InvalidParameterError(f"{name} must be in [0, 1), got {value}")
    if val_fraction + test_fraction >= 1:
        raise InvalidParameterError(
            "val_fraction + test_fraction must be < 1 to leave training data"
        )
    groups: dict[str, list[str]] = {}
    for sample_id in sorted(set(ids)):
        groups.setdefault(group_of(sample_id), []).append(sample_id)
    names = sorted(groups)
    n_val = _count(val_fraction, len(names))
    n_test = _count(test_fraction, len(names))
    if n_val + n_test >= len(names):
        raise InvalidParameterError(
            f"{len(names)} structure group(s) are too few for val_fraction={val_fraction} and "
            f"test_fraction={test_fraction}: each split needs a whole group and train needs one"
        )
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]

    def ids_of(chosen: list[str]) -> list[str]:
        return sorted(i for name in chosen for i in groups[name])

    return Split(
        train=ids_of(order[n_val + n_test :]),
        val=ids_of(order[:n_val]),
        test=ids_of(order[n_val : n_val + n_test]),
    )


def _count(fraction: float, n_groups: int) -> int:
    return 0 if fraction == 0 else max(1, math.floor(fraction * n_groups + 0.5))
