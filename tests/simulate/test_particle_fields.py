"""Low-magnification bright-field particle fields: mass-thickness contrast, seeded."""

from __future__ import annotations

import numpy as np

from dosewise.simulate.particle_fields import particle_field


def test_fields_are_seeded_dark_particles_on_a_bright_support() -> None:
    first = particle_field(128, np.random.default_rng(3))
    again = particle_field(128, np.random.default_rng(3))
    assert np.array_equal(first, again) and first.dtype == np.float32
    assert first.min() >= 0 and 0.85 < np.percentile(first, 95) < 1.15  # support ≈ 1
    fields = [particle_field(128, np.random.default_rng(s)) for s in range(10)]
    assert all(field.min() < 0.9 for field in fields)  # every field has absorbing particles
