"""A tiny supported particle and its exit wave, shared by the simulate tests."""

from __future__ import annotations

import pytest

from dosewise.simulate.hrtem import compute_exit_wave
from dosewise.simulate.structures import build_supported_particle
from tests.helpers.simulate import DIAMETER_RANGE_A, PIXEL_SIZE_A, SAMPLING_A, SIZE_PX, Simulated


@pytest.fixture(scope="session")
def simulated() -> Simulated:
    particle = build_supported_particle(SIZE_PX * PIXEL_SIZE_A, seed=7, diameter_range_A=DIAMETER_RANGE_A)
    return Simulated(particle, compute_exit_wave(particle.atoms, sampling_A=SAMPLING_A))
