from __future__ import annotations

import numpy as np
import pytest

from dosewise.config import HrtemDatasetConfig, MicroscopeRanges
from dosewise.errors import InvalidParameterError


def test_defaults_are_seed_003_table_1() -> None:
    r = MicroscopeRanges()
    assert r.energy_eV == 300e3
    assert r.defocus_A == (-200.0, 200.0)
    assert r.cs_um == (0.0, 12.45)
    assert r.focal_spread_A == (5.0, 20.0)
    assert r.blur_A == (0.1, 0.8)
    assert r.dose_e_per_A2 == (1e2, 1e6)
    assert r.pixel_size_A == (0.07, 0.08)


def test_draws_stay_in_range_and_dose_is_log_uniform() -> None:
    ranges = MicroscopeRanges()
    rng = np.random.default_rng(0)
    draws = [ranges.sample(rng) for _ in range(4000)]
    for name in ("defocus_A", "cs_um", "focal_spread_A", "blur_A", "dose_e_per_A2"):
        values = np.array([getattr(d, name) for d in draws])
        low, high = getattr(ranges, name)
        assert values.min() >= low and values.max() <= high
    log_dose = np.log10([d.dose_e_per_A2 for d in draws])
    # Uniform in log10 between 2 and 6: each decade holds a quarter of the draws.
    counts = np.histogram(log_dose, bins=[2, 3, 4, 5, 6])[0] / len(draws)
    np.testing.assert_allclose(counts, 0.25, atol=0.03)
    assert all(d.energy_eV == 300e3 for d in draws)
    assert 0.07 <= ranges.sample_pixel_size_A(rng) <= 0.08


def test_same_generator_state_gives_same_draw() -> None:
    a = MicroscopeRanges().sample(np.random.default_rng(5))
    b = MicroscopeRanges().sample(np.random.default_rng(5))
    assert a == b


@pytest.mark.parametrize(
    "bad", [{"defocus_A": (10.0, -10.0)}, {"dose_e_per_A2": (0.0, 10.0)}, {"blur_A": (-1.0, 1.0)}]
)
def test_bad_ranges_raise_one_line_error(bad: dict) -> None:
    with pytest.raises(InvalidParameterError, match="invalid microscope ranges"):
        HrtemDatasetConfig.validate_dict({"microscope": bad})
