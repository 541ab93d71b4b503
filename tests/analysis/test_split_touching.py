"""Touching particles counted one by one: watershed on the distance transform."""

from __future__ import annotations

import numpy as np
import pytest

from dosewise.analysis.particles import measure_particles, split_touching
from dosewise.errors import InvalidImageError, InvalidParameterError


def discs(centres: list[tuple[int, int]], radius: float, shape: tuple[int, int] = (80, 120)) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.any([(yy - y) ** 2 + (xx - x) ** 2 <= radius**2 for y, x in centres], axis=0)


def test_two_touching_discs_are_two_particles_of_the_right_size() -> None:
    mask = discs([(40, 40), (40, 72)], radius=18)  # overlapping by 4 px: one connected region
    assert len(measure_particles(mask)) == 1
    particles = measure_particles(mask, labels=split_touching(mask))
    assert len(particles) == 2
    single = float(discs([(40, 40)], radius=18).sum())
    for particle in particles:  # each keeps about its own disc (the cut runs through the neck)
        assert abs(particle.area_px - (mask.sum() / 2)) < 0.02 * single
    assert sorted(round(p.centroid_x_px) for p in particles) == [39, 73] or \
        sorted(round(p.centroid_x_px) for p in particles) == [40, 72]


def test_a_lone_rough_disc_and_a_thin_line_stay_one_particle_each() -> None:
    rng = np.random.default_rng(0)
    mask = discs([(40, 40)], radius=20) & ~(rng.random((80, 120)) < 0.03)  # pitted edge and inside
    mask[10, 70:110] = True  # one pixel wide: no marker deeper than the neck depth
    labels = split_touching(mask)
    assert len(np.unique(labels[labels > 0])) == len(measure_particles(mask))
    assert np.array_equal(labels > 0, mask)


def test_bad_inputs_are_clear_errors() -> None:
    with pytest.raises(InvalidImageError, match="2-D"):
        split_touching(np.zeros((2, 4, 4), bool))
    with pytest.raises(InvalidParameterError, match="neck depth"):
        split_touching(np.zeros((4, 4), bool), neck_depth_px=0)
    with pytest.raises(InvalidImageError, match="do not match"):
        measure_particles(np.zeros((4, 4), bool), labels=np.zeros((4, 5), np.int32))
