"""Fitting MTF and readout noise back from simulated vacuum (known answers)."""

from __future__ import annotations

import numpy as np
import pytest

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.physics import (
    MTF_PRESETS,
    MTFParams,
    azimuthal_amplitude_spectrum,
    c_from_n0,
    detector_image,
    fit_mtf,
    fit_readout_n0,
)

# 1024 px: over 20 seeds the worst errors were 1.5 % (c0), 3.4 % (C), 2.6 % (c3),
# min R^2 0.995; at 512 px C reached 5.4 %, too close to the 5 % tolerance.
FIT_PX = 1024
VACUUM = np.ones((FIT_PX, FIT_PX), np.float32)


def test_white_noise_has_flat_amplitude_sqrt_variance() -> None:
    image = np.random.default_rng(0).normal(0.0, 3.0, (512, 512))
    q, amplitude = azimuthal_amplitude_spectrum(image)
    assert q[0] > 0 and q[-1] <= 1.0 and np.all(np.diff(q) > 0)
    assert np.median(amplitude) == pytest.approx(3.0, rel=0.02)


@pytest.mark.parametrize(("c0", "c3", "C"), [(0.25, 2.5, 0.1), (0.5, 3.0, 0.3)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_recovers_known_mtf(c0: float, c3: float, C: float, seed: int) -> None:
    image = detector_image(VACUUM, 20.0, mtf=MTFParams(c0=c0, c3=c3, C=C), seed=seed)
    fit = fit_mtf(image)
    assert fit.c0 == pytest.approx(c0, rel=0.05)
    assert fit.C == pytest.approx(C, rel=0.05)
    assert fit.c3 == pytest.approx(c3, rel=0.10)
    assert fit.r2 >= 0.98
    assert fit.c1 == pytest.approx(np.sqrt(20.0), rel=0.05)  # amplitude convention
    assert fit.params == MTFParams(c0=fit.c0, c3=fit.c3, C=fit.C)
    assert fit.q_nyquist.shape == fit.amplitude.shape


def test_fit_rejects_small_or_bad_regions() -> None:
    with pytest.raises(InvalidImageError, match="too small"):
        fit_mtf(np.ones((15, 64)))
    with pytest.raises(InvalidImageError, match="constant"):
        fit_mtf(np.ones((32, 32)))
    with pytest.raises(InvalidImageError, match="NaN"):
        fit_mtf(np.full((32, 32), np.nan))


def test_readout_floor_fit_gives_unbiased_tail() -> None:
    """Eq. 3 vacuum at 10 e-/px: the readout form gives C = sqrt(N0/(N0+N_D)), A.1 does not."""
    params = MTFParams(c0=0.5, c3=3.0)
    image = detector_image(VACUUM, 10.0, mtf=params, n0_e_per_px=0.01, seed=3)
    expected = float(c_from_n0(10.0, 0.01))
    readout = fit_mtf(image, floor="readout")
    assert readout.C == pytest.approx(expected, rel=0.1)
    assert readout.params.C == 0.0 and readout.params.c0 == pytest.approx(0.5, rel=0.05)
    assert fit_mtf(image).C < 0.6 * expected  # eq. A.1 misreads the leaking shot noise


def test_dose_series_recovers_readout_n0() -> None:
    """Seed 003 Fig. 6 protocol: vacuum frames from 0.01 to 10 e-/px, N0 = 0.01, MTF 3 detectors."""
    rng = np.random.default_rng(2024)
    doses = np.logspace(-2, 1, 12)
    tails = []
    for dose in doses:
        mtf, _ = MTF_PRESETS["mtf3"].sample(rng)
        image = detector_image(VACUUM, dose, mtf=mtf, n0_e_per_px=0.01, seed=rng)
        tails.append(fit_mtf(image, floor="readout").C)
    result = fit_readout_n0(np.array(tails), doses)
    assert result.n0_e_per_px == pytest.approx(0.01, rel=0.10)
    assert result.r2 >= 0.99


def test_fit_readout_n0_exact_on_eq2_and_validates() -> None:
    doses = np.logspace(-2, 1, 8)
    assert fit_readout_n0(c_from_n0(doses, 0.02), doses).n0_e_per_px == pytest.approx(0.02)
    with pytest.raises(InvalidParameterError):
        fit_readout_n0([0.5], [1.0])
    with pytest.raises(InvalidParameterError):
        fit_readout_n0([0.5, 1.2], [1.0, 2.0])
