"""Line profiles and the blurred-sphere fit: known answers on synthetic projected spheres (seed 002)."""

from __future__ import annotations

import numpy as np
import pytest

from dosewise.analysis import (
    EDGE_10_90_PER_SIGMA,
    analyse_profile,
    blurred_thickness,
    line_profile,
    projected_thickness,
)
from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.image import EMImage
from tests.helpers.images import BLUR_PX, sphere_image


# ----------------------------------------------------------------------------- sampling
def test_points_are_x_y_and_distances_span_the_line() -> None:
    image = np.tile(np.arange(40, dtype=np.float32), (20, 1))  # value = x (column)
    profile = line_profile(image, (2, 5), (12, 5))
    np.testing.assert_allclose(profile.values, np.arange(2, 13), atol=1e-9)
    np.testing.assert_allclose(profile.distance_px, np.arange(11), atol=1e-12)
    vertical = line_profile(image, (7, 1), (7, 18))
    np.testing.assert_allclose(vertical.values, 7.0, atol=1e-9)
    assert profile.distance_nm is None


def test_distance_nm_from_the_images_pixel_size() -> None:
    image = EMImage(data=np.zeros((30, 30), dtype=np.float32), pixel_size_A=2.5)
    profile = line_profile(image, (0, 0), (20, 15))  # 25 px long
    assert profile.length_px == pytest.approx(25.0)
    assert profile.distance_nm[-1] == pytest.approx(6.25)
    assert line_profile(image, (0, 0), (20, 15), pixel_size_A=10.0).distance_nm[-1] == pytest.approx(25.0)


def test_width_averaging_divides_noise_by_sqrt_width() -> None:
    noise = np.random.default_rng(1).normal(0.0, 1.0, size=(64, 600)).astype(np.float32)
    narrow = line_profile(noise, (5, 32), (594, 32), width_px=1).values.std()
    wide = line_profile(noise, (5, 32), (594, 32), width_px=9).values.std()
    assert narrow / wide == pytest.approx(3.0, rel=0.12)


@pytest.mark.parametrize(
    ("start", "end", "width", "fragment"),
    [
        ((0, 0), (40, 10), 1, "outside the 40x30 image"),
        ((-1, 3), (10, 3), 1, "outside"),
        ((5, 5), (5, 5), 1, "less than 1 px apart"),
        ((1, 1), (20, 20), 0, "width"),
    ],
)
def test_bad_lines_are_refused(start, end, width, fragment: str) -> None:
    with pytest.raises(InvalidParameterError, match=fragment):
        line_profile(np.zeros((30, 40), dtype=np.float32), start, end, width_px=width)


def test_a_stack_is_refused() -> None:
    with pytest.raises(InvalidImageError, match="2-D"):
        line_profile(np.zeros((2, 30, 40), dtype=np.float32), (1, 1), (9, 9))


# ----------------------------------------------------------------------------- model
def test_blurred_sphere_keeps_its_area_and_tends_to_the_chord() -> None:
    x = np.linspace(-60.0, 60.0, 4801)
    for sigma in (0.3, 1.5, 6.0):
        area = np.trapezoid(blurred_thickness(x, 3.0, 20.0, sigma), x)
        assert area == pytest.approx(np.pi * 20.0**2, rel=1e-6)
    inside = np.abs(x - 3.0) < 15.0  # the blur rounds the rim
    np.testing.assert_allclose(
        blurred_thickness(x, 3.0, 20.0, 0.3)[inside], projected_thickness(x, 3.0, 20.0)[inside], rtol=2e-3
    )


# ----------------------------------------------------------------------------- one particle
@pytest.mark.parametrize("seed", range(5))
def test_diameter_within_2_percent_and_background_within_1_percent(seed: int) -> None:
    dose = 500.0  # e-/px in the background
    image = sphere_image((96, 200), [(97.3, 47.6, 20.0)], dose=dose, seed=seed)
    result = analyse_profile(line_profile(image, (8, 47.6), (190, 47.6), width_px=5))
    (particle,) = result.particles
    assert particle.diameter_px == pytest.approx(40.0, rel=0.02)
    assert particle.diameter_se_px < 0.8
    assert particle.centre_px + 8 == pytest.approx(97.3, abs=0.5)
    assert result.background == pytest.approx(dose, rel=0.01)
    assert result.background_fit == pytest.approx(dose, rel=0.01)


def test_edge_width_recovers_the_blur() -> None:
    truth = EDGE_10_90_PER_SIGMA * BLUR_PX
    clean = sphere_image((96, 200), [(97.3, 47.6, 20.0)], dose=None)
    exact = analyse_profile(line_profile(clean, (8, 47.6), (190, 47.6)))
    assert exact.sigma_px == pytest.approx(BLUR_PX, rel=0.05)
    assert exact.particles[0].diameter_px == pytest.approx(40.0, rel=0.005)
    noisy = sphere_image((96, 200), [(97.3, 47.6, 20.0)], dose=2000.0, seed=0)
    result = analyse_profile(line_profile(noisy, (8, 47.6), (190, 47.6), width_px=9))
    assert result.edge_width_px == pytest.approx(truth, rel=0.2)


def test_diagonal_line_and_bright_particles() -> None:
    image = sphere_image((110, 160), [(83.3, 52.6, 20.0)], dose=500.0, seed=3)
    start, end = (83.3 - 60, 52.6 - 45), (83.3 + 60, 52.6 + 45)  # 150 px through the centre
    dark = analyse_profile(line_profile(image, start, end, width_px=5))
    assert dark.particles[0].diameter_px == pytest.approx(40.0, rel=0.02)
    assert dark.particles[0].centre_px == pytest.approx(75.0, abs=0.7)
    inverted = 1000.0 - image  # particles brighter than the background
    bright = analyse_profile(line_profile(inverted, start, end, width_px=5), polarity="bright")
    assert bright.particles[0].diameter_px == pytest.approx(dark.particles[0].diameter_px, abs=1e-3)
    with pytest.raises(InvalidParameterError, match="no dark particle"):
        analyse_profile(line_profile(inverted, start, end, width_px=5), polarity="dark")


def test_flat_profile_has_no_particle() -> None:
    flat = np.random.default_rng(0).poisson(500.0, size=(40, 120)).astype(np.float32)
    with pytest.raises(InvalidParameterError, match="no dark particle"):
        analyse_profile(line_profile(flat, (2, 20), (117, 20), width_px=3))


def test_bad_analysis_parameters() -> None:
    profile = line_profile(sphere_image((96, 200), [(97.3, 47.6, 20.0)], dose=None), (8, 47.6), (190, 47.6))
    with pytest.raises(InvalidParameterError, match="1 or 2"):
        analyse_profile(profile, n_particles=3)
    with pytest.raises(InvalidParameterError, match="polarity"):
        analyse_profile(profile, polarity="grey")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="background fraction"):
        analyse_profile(profile, background_fraction=0.6)


# ----------------------------------------------------------------------------- two particles
def test_separated_pair_is_found_measured_and_resolved() -> None:
    image = sphere_image((100, 200), [(70.0, 50.0, 20.0), (118.0, 50.0, 15.0)], dose=500.0, seed=2)
    result = analyse_profile(line_profile(image, (10, 50), (190, 50), width_px=5))  # auto: two dips
    first, second = result.particles
    assert first.diameter_px == pytest.approx(40.0, rel=0.02)
    assert second.diameter_px == pytest.approx(30.0, rel=0.02)
    assert result.separation_px == pytest.approx(48.0, abs=0.5)
    assert result.resolved is True  # (40 + 30)/2 = 35 < 48
    assert result.resolution_margin_px == pytest.approx(13.0, abs=1.0)
    assert first.pseudo_diameter_px is not None and first.pseudo_diameter_px > first.diameter_px - 2


def test_overlapping_pair_is_not_resolved() -> None:
    image = sphere_image((100, 200), [(70.0, 50.0, 20.0), (100.0, 50.0, 15.0)], dose=500.0, seed=2)
    result = analyse_profile(line_profile(image, (10, 50), (190, 50), width_px=5), n_particles=2)
    first, second = result.particles
    assert first.diameter_px == pytest.approx(40.0, rel=0.03)
    assert second.diameter_px == pytest.approx(30.0, rel=0.03)
    assert result.separation_px == pytest.approx(30.0, abs=0.7)
    assert result.resolved is False  # (40 + 30)/2 = 35 > 30
    summary = result.to_dict()
    assert summary["resolved"] is False and summary["n_particles"] == 2
    assert "diameter_nm" not in summary["particles"][0]  # no pixel size, no nm
