"""Low-dose / high-dose pair alignment: resampling, drift and intensity scale (seed 002)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from dosewise.data.pairs import align_pair, resample_to
from dosewise.errors import InvalidImageError

SIZE, UP = 128, 4


def _field(seed: int = 0) -> np.ndarray:
    """Dark blurred discs on a bright background, sampled 4x finer than the low-dose grid."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: SIZE * UP, : SIZE * UP] / UP
    image = np.ones((SIZE * UP, SIZE * UP))
    for _ in range(12):
        cy, cx, r = rng.uniform(15, SIZE - 15, 2).tolist() + [rng.uniform(3, 10)]
        image -= 0.4 * ((yy - cy) ** 2 + (xx - cx) ** 2 < r**2)
    return np.clip(ndimage.gaussian_filter(image, 2 * UP / 2), 0.05, None)


def test_resample_bins_integer_factors_exactly() -> None:
    image = np.arange(64.0).reshape(8, 8)
    assert resample_to(image, (2, 2))[0, 0] == image[:4, :4].mean()
    assert resample_to(image, (5, 5)).shape == (5, 5)


@pytest.mark.parametrize("shift", [(3.3, -5.7), (-7.25, 2.5), (0.4, 0.2)])
def test_drift_is_recovered_within_half_a_pixel(shift: tuple[float, float]) -> None:
    rng = np.random.default_rng(1)
    fine = _field()
    low_clean = ndimage.shift(resample_to(fine, (SIZE, SIZE)), shift, order=3, mode="nearest")
    low = rng.poisson(5.0 * low_clean).astype(np.float32)  # ~5 e-/px, as seed 002's frames
    high = rng.poisson(1000.0 / UP**2 * fine).astype(np.float32)  # ~1000 e-/px after binning
    pair = align_pair(low, high)
    assert np.allclose(pair.shift_px, shift, atol=0.5)
    # intensities land on the low-dose scale: ~5 counts per unit intensity
    assert abs(pair.high[pair.valid].mean() - low[pair.valid].mean()) < 0.05 * low.mean()


def test_smaller_high_dose_image_is_refused() -> None:
    with pytest.raises(InvalidImageError, match="smaller"):
        align_pair(np.ones((64, 64)), np.ones((32, 32)))


def test_pure_noise_pairs_get_no_drift() -> None:
    """Two exposures with no common signal: a random correlation peak is not a drift."""
    rng = np.random.default_rng(3)
    for shape in ((64, 512), (256, 256)):
        first, second = (rng.poisson(2.0, shape).astype(np.float64) for _ in range(2))
        assert align_pair(first, second, both_noisy=True).shift_px == (0.0, 0.0)


def test_noise2noise_exposures_keep_their_contrast() -> None:
    """Two independent ~2 e-/px exposures of one field (the second at 1.5x the dose): the
    aligned second exposure keeps its full contrast, scaled by the ratio of means; a
    least-squares line would flatten it (slope ~ their correlation)."""
    clean = _field(1)
    clean = clean / clean.mean()
    rng = np.random.default_rng(4)
    first, second = rng.poisson(2.0 * clean).astype(float), rng.poisson(3.0 * clean).astype(float)
    pair = align_pair(first, second, both_noisy=True)
    assert pair.scale == pytest.approx(2.0 / 3.0, rel=0.03) and pair.offset == 0.0
    assert np.std(pair.high) > 0.85 * np.std(second) * pair.scale  # sub-pixel shifts smooth a little
    assert align_pair(first, second).scale < 0.5 * pair.scale  # the attenuated regression
