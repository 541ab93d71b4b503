"""Shot and readout noise: Poisson statistics, seeding, eq. 3 variance, bad doses."""

from __future__ import annotations

import numpy as np
import pytest

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.physics import (
    MTFParams,
    detector_image,
    radial_frequency_nyquist,
    readout_noise,
    shot_noise,
)
from dosewise.physics.mtf import mtf_curve
from dosewise.units import dose_e_per_px


@pytest.mark.parametrize("dose_e_per_px", [5.0, 100.0])
def test_shot_noise_mean_and_variance_equal_dose(dose_e_per_px: float) -> None:
    counts = shot_noise(np.ones((1000, 1000), np.float32), dose_e_per_px, seed=1)
    assert counts.dtype == np.float32
    assert np.all(counts == np.round(counts))  # electron counts are integers
    assert counts.mean() == pytest.approx(dose_e_per_px, rel=0.02)
    assert counts.var() == pytest.approx(dose_e_per_px, rel=0.02)


def test_shot_noise_scales_with_intensity_and_clips_negative() -> None:
    intensity = np.zeros((400, 400), np.float32)
    intensity[:200] = 0.5
    intensity[200:] = -3.0
    counts = shot_noise(intensity, 20.0, seed=2)
    assert counts[:200].mean() == pytest.approx(10.0, rel=0.02)
    assert np.all(counts[200:] == 0)


def test_same_seed_same_noise_and_generator_accepted() -> None:
    image = np.full((64, 64), 0.7, np.float32)
    mtf = MTFParams(c0=0.3, c3=2.5, C=0.05)
    a = detector_image(image, 3.0, mtf=mtf, n0_e_per_px=0.01, seed=7)
    b = detector_image(image, 3.0, mtf=mtf, n0_e_per_px=0.01, seed=7)
    c = detector_image(image, 3.0, mtf=mtf, n0_e_per_px=0.01, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(
        shot_noise(image, 3.0, np.random.default_rng(5)), shot_noise(image, 3.0, 5)
    )


def test_readout_noise_is_poisson_n0() -> None:
    counts = readout_noise((1000, 1000), 0.01, seed=3)
    assert counts.mean() == pytest.approx(0.01, rel=0.1)
    assert counts.var() == pytest.approx(0.01, rel=0.1)
    assert not readout_noise((8, 8), 0.0, seed=3).any()


def test_detector_image_variance_follows_eq3() -> None:
    """Var = N_D * mean(MTF^2 over the frequency grid) + N0; the mean is N_D + N0."""
    dose, n0 = 50.0, 2.0
    mtf = MTFParams(c0=0.3, c3=2.5, C=0.1)
    image = detector_image(np.ones((1000, 1000), np.float32), dose, mtf=mtf, n0_e_per_px=n0, seed=4)
    q = radial_frequency_nyquist((1000, 1000), half=False)
    expected_var = dose * np.mean(mtf_curve(q, mtf.c0, mtf.c3, mtf.C) ** 2) + n0
    assert image.mean() == pytest.approx(dose + n0, rel=0.01)
    assert image.var() == pytest.approx(expected_var, rel=0.02)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_dose_raises(bad: float) -> None:
    with pytest.raises(InvalidParameterError, match="dose"):
        shot_noise(np.ones((4, 4)), bad, seed=0)
    with pytest.raises(InvalidParameterError, match="dose"):
        detector_image(np.ones((4, 4)), bad, seed=0)


def test_bad_n0_and_image_raise() -> None:
    with pytest.raises(InvalidParameterError, match="N0"):
        detector_image(np.ones((4, 4)), 1.0, n0_e_per_px=-0.1, seed=0)
    with pytest.raises(InvalidImageError, match="NaN"):
        shot_noise(np.array([[1.0, np.nan]]), 1.0, seed=0)


def test_dose_from_area_uses_pixel_area() -> None:
    assert dose_e_per_px(100.0, 0.5) == pytest.approx(25.0)
    with pytest.raises(InvalidParameterError):
        dose_e_per_px(-1.0, 0.5)
