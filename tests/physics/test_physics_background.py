"""Backgrounds are smooth, zero-mean, scaled and seeded; blur behaves like a Gaussian."""

from __future__ import annotations

import numpy as np
import pytest

from dosewise.errors import InvalidParameterError
from dosewise.physics import gaussian_blur, linear_background, nonlinear_background


def _roughness(field: np.ndarray) -> float:
    """RMS second difference over standard deviation: ~2.4 for white noise, ~1e-4 for smooth.

    A local measure, because an FFT of a non-periodic smooth field shows edge
    wrap-around as spurious high-frequency power.
    """
    f = field.astype(np.float64)
    second = np.concatenate([np.diff(f, 2, axis=0).ravel(), np.diff(f, 2, axis=1).ravel()])
    return float(np.sqrt(np.mean(second**2)) / f.std())


@pytest.mark.parametrize("make", [linear_background, nonlinear_background])
def test_backgrounds_are_seeded_zero_mean_and_scaled(make) -> None:
    a = make((96, 128), 5, 0.3)
    np.testing.assert_array_equal(a, make((96, 128), 5, 0.3))
    assert not np.array_equal(a, make((96, 128), 6, 0.3))
    assert a.dtype == np.float32 and a.shape == (96, 128)
    assert abs(float(a.mean())) < 1e-6
    assert float(np.ptp(a)) == pytest.approx(0.3, rel=1e-5)


def test_linear_background_is_a_plane() -> None:
    plane = linear_background((50, 70), 1, 1.0).astype(np.float64)
    assert np.abs(np.diff(plane, n=2, axis=0)).max() < 1e-5
    assert np.abs(np.diff(plane, n=2, axis=1)).max() < 1e-5


def test_nonlinear_background_is_smooth_and_not_a_plane() -> None:
    for seed in range(5):
        field = nonlinear_background((256, 256), seed, 1.0)
        assert _roughness(field) < 2e-3
        curvature = np.abs(np.diff(field.astype(np.float64), n=2, axis=1)).max()
        assert curvature > 1e-7
    assert _roughness(np.random.default_rng(0).random((256, 256))) > 1.0  # it does see noise


def test_gaussian_blur_keeps_mean_and_removes_high_frequencies() -> None:
    noise = np.random.default_rng(1).random((128, 128)).astype(np.float32)
    blurred = gaussian_blur(noise, 3.0)
    assert blurred.mean() == pytest.approx(noise.mean(), rel=1e-3)
    assert _roughness(blurred) < 0.05 * _roughness(noise)
    np.testing.assert_array_equal(gaussian_blur(noise, 0.0), noise)
    stack = np.stack([noise, noise])
    np.testing.assert_allclose(gaussian_blur(stack, 2.0)[1], gaussian_blur(noise, 2.0), atol=1e-6)


def test_bad_background_parameters_raise() -> None:
    with pytest.raises(InvalidParameterError):
        gaussian_blur(np.zeros((8, 8)), -1.0)
    with pytest.raises(InvalidParameterError):
        linear_background((8, 8), 0, -1.0)
    with pytest.raises(InvalidParameterError):
        nonlinear_background((8,), 0, 1.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        nonlinear_background((8, 8), 0, 1.0, n_blobs=0)
