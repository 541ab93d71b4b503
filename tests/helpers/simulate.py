"""Settings shared by the simulate tests: 128 px at 0.4 Å/px on a 0.2 Å grid runs in seconds."""

from __future__ import annotations

from dataclasses import dataclass

from dosewise.simulate.hrtem import ExitWave
from dosewise.simulate.structures import SupportedParticle

SIZE_PX = 128
PIXEL_SIZE_A = 0.4
SAMPLING_A = 0.2
DIAMETER_RANGE_A = (15.0, 20.0)
# Recipe fields (HrtemDatasetConfig, DoseSeriesConfig) that make a simulation fast.
FAST = dict(size_px=SIZE_PX, pixel_size_A=PIXEL_SIZE_A, max_sampling_A=SAMPLING_A,
            diameter_range_A=DIAMETER_RANGE_A)


@dataclass(frozen=True)
class Simulated:
    particle: SupportedParticle
    exit_wave: ExitWave
