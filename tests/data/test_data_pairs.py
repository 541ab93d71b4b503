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
