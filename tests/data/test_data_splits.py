"""Splits are deterministic and never spread one structure over two splits."""

from __future__ import annotations

import pytest

from dosewise.data import group_of, split_ids
from dosewise.errors import InvalidParameterError

IDS = [f"s{s:06d}_v{v:03d}" for s in range(20) for v in range(3)]


def test_structure_groups_stay_together() -> None:
    split = split_ids(IDS, val_fraction=0.2, test_fraction=0.1, seed=0)
    groups = [{group_of(i) for i in part} for part in (split.train, split.val, split.test)]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    assert (len(groups[1]), len(groups[2]), len(groups[0])) == (4, 2, 14)
    assert sorted(split.train + split.val + split.test) == sorted(IDS)


def test_split_depends_on_seed_not_order() -> None:
    a = split_ids(IDS, 0.25, seed=1)
    assert split_ids(list(reversed(IDS)), 0.25, seed=1) == a
    assert split_ids(IDS, 0.25, seed=2) != a


def test_plain_names_are_their_own_group() -> None:
    assert group_of("s000012_v003") == "s000012"
    assert group_of("particle_7") == "particle_7"
    split = split_ids(["a", "b", "c"], 0.3)
    assert len(split.val) == 1 and len(split.train) == 2


def test_too_few_groups_is_an_error() -> None:
    with pytest.raises(InvalidParameterError, match="too few"):
        split_ids(["s000001_v000", "s000001_v001"], 0.2)
    with pytest.raises(InvalidParameterError, match="val_fraction"):
        split_ids(IDS, 1.2)
