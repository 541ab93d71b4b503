"""Partial scans: kept positions, nearest-neighbour fill, coverage parsing, loss normaliser."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.physics import (
    loss_normaliser_p,
    p_raw,
    parse_coverage,
    partial_scan,
    upsample_partial,
)


@pytest.mark.parametrize(("h", "w", "step"), [(512, 512, 5), (37, 50, 4), (9, 7, 3), (5, 5, 1)])
def test_mask_keeps_every_step_th_position(h: int, w: int, step: int) -> None:
    image = np.random.default_rng(0).random((h, w)).astype(np.float32)
    scan = partial_scan(image, step)
    assert scan.mask.sum() == math.ceil(h / step) * math.ceil(w / step)
    rows, cols = np.nonzero(scan.mask)
    assert np.all(rows % step == 0) and np.all(cols % step == 0)
    assert scan.samples.shape == (math.ceil(h / step), math.ceil(w / step))
    assert scan.coverage == pytest.approx(1 / step**2)
    np.testing.assert_array_equal(scan.filled[scan.mask], image[scan.mask])
    np.testing.assert_array_equal(scan.samples.ravel(), image[scan.mask])


def test_seed_protocol_512_px_at_step_5_gives_103_positions() -> None:
    assert partial_scan(np.zeros((512, 512)), 5).samples.shape == (103, 103)


def test_fill_takes_nearest_position_with_ties_to_the_lower_one() -> None:
    image = np.arange(7 * 9, dtype=np.float32).reshape(7, 9)
    filled = partial_scan(image, 2).filled
    np.testing.assert_array_equal(filled[:, 1], image[[0, 0, 2, 2, 4, 4, 6], 0])
    np.testing.assert_array_equal(filled[0, :], image[0, [0, 0, 2, 2, 4, 4, 6, 6, 8]])
    filled3 = partial_scan(image, 3, offset=(1, 2)).filled
    # rows: kept 1, 4; columns: kept 2, 5, 8
    np.testing.assert_array_equal(filled3[:, 0], image[[1, 1, 1, 4, 4, 4, 4], 2])
    np.testing.assert_array_equal(filled3[6, :], image[4, [2, 2, 2, 2, 5, 5, 5, 8, 8]])


def test_fill_matches_brute_force_nearest_neighbour() -> None:
    image = np.random.default_rng(1).random((23, 19)).astype(np.float32)
    scan = partial_scan(image, 4, offset=(3, 1))
    kept = np.argwhere(scan.mask)
    for y in range(23):
        for x in range(19):
            distance = np.hypot(kept[:, 0] - y, kept[:, 1] - x)
            assert distance[np.argmin(distance)] == pytest.approx(
                np.hypot(*(np.argwhere(image == scan.filled[y, x])[0] - (y, x)))
            )


def test_random_offset_is_seeded_and_in_range() -> None:
    image = np.random.default_rng(2).random((40, 40)).astype(np.float32)
    a = partial_scan(image, 6, offset="random", seed=11)
    b = partial_scan(image, 6, offset="random", seed=11)
    assert a.offset == b.offset and all(0 <= o < 6 for o in a.offset)
    offsets = {partial_scan(image, 6, offset="random", seed=s).offset for s in range(30)}
    assert len(offsets) > 5


def test_upsample_partial_reproduces_filled_and_checks_shape() -> None:
    image = np.random.default_rng(3).random((2, 30, 41)).astype(np.float32)  # a stack
    scan = partial_scan(image, 4, offset=(1, 3))
    np.testing.assert_array_equal(upsample_partial(scan.samples, 4, (30, 41), (1, 3)), scan.filled)
    with pytest.raises(InvalidImageError, match="do not match"):
        upsample_partial(scan.samples, 5, (30, 41), (1, 3))


def test_bad_steps_and_offsets_raise() -> None:
    with pytest.raises(InvalidParameterError):
        partial_scan(np.zeros((8, 8)), 0)
    with pytest.raises(InvalidParameterError):
        partial_scan(np.zeros((8, 8)), 2.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="offset"):
        partial_scan(np.zeros((8, 8)), 3, offset=(3, 0))


@pytest.mark.parametrize(
    ("value", "step"), [("1/25", 5), ("0.04", 5), (25, 5), ("1/16", 4), (0.01, 10), ("1/4", 2), ("1/1024", 32)]
)
def test_parse_coverage(value: object, step: int) -> None:
    assert parse_coverage(value) == step  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["1/20", 0.05, 20, "abc", 0, -0.25, "1/0", float("nan"), 1, "1/1",
                                   "1/100000000", "1/1089", float("inf")])
def test_parse_coverage_rejects_non_square_and_junk(value: object) -> None:
    with pytest.raises(InvalidParameterError, match="coverage"):
        parse_coverage(value)  # type: ignore[arg-type]


def test_parse_coverage_message_names_the_rule() -> None:
    with pytest.raises(InvalidParameterError, match=r"not 1/s\^2.*1/16 or 1/25"):
        parse_coverage("1/20")


def test_loss_normaliser_matches_seed_004() -> None:
    assert p_raw(0.0) == pytest.approx(0.002211)
    coverages = np.array([1 / s**2 for s in range(4, 11)])
    assert np.mean(loss_normaliser_p(coverages)) == pytest.approx(1.0)
    # sparser scans have larger losses, so a larger divisor
    assert loss_normaliser_p(1 / 100) > loss_normaliser_p(1 / 16)
    assert float(loss_normaliser_p(1 / 16)) == pytest.approx(0.000974 / 0.0014873, rel=2e-3)
