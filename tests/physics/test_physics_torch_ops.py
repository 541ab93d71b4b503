"""Torch noise and MTF agree with the numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dosewise.errors import InvalidParameterError
from dosewise.physics import MTFParams, apply_mtf, radial_frequency_nyquist
from dosewise.physics import torch_ops
from dosewise.physics.mtf import mtf_curve


@pytest.mark.parametrize("shape", [(64, 48), (2, 1, 33, 17)])
def test_apply_mtf_matches_numpy(shape: tuple[int, ...]) -> None:
    image = np.random.default_rng(0).random(shape).astype(np.float32) * 10
    params = MTFParams(c0=0.3, c3=2.5, C=0.1)
    out = torch_ops.apply_mtf(torch.from_numpy(image), params)
    assert out.shape == image.shape and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), apply_mtf(image, params), atol=1e-5)


@pytest.mark.parametrize("dose_e_per_px", [5.0, 100.0])
def test_shot_noise_statistics_match_dose(dose_e_per_px: float) -> None:
    generator = torch.Generator().manual_seed(0)
    counts = torch_ops.shot_noise(torch.ones(1000, 1000), dose_e_per_px, generator)
    assert float(counts.mean()) == pytest.approx(dose_e_per_px, rel=0.02)
    assert float(counts.var()) == pytest.approx(dose_e_per_px, rel=0.02)


def test_detector_image_matches_numpy_statistics_and_is_seeded() -> None:
    dose, n0 = 50.0, 2.0
    params = MTFParams(c0=0.3, c3=2.5, C=0.1)
    q = radial_frequency_nyquist((1000, 1000), half=False)
    expected_var = dose * np.mean(mtf_curve(q, params.c0, params.c3, params.C) ** 2) + n0

    def draw(seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return torch_ops.detector_image(
            torch.ones(1000, 1000), dose, mtf=params, n0_e_per_px=n0, generator=generator
        )

    image = draw(1)
    assert float(image.mean()) == pytest.approx(dose + n0, rel=0.01)
    assert float(image.var()) == pytest.approx(expected_var, rel=0.02)
    assert torch.equal(image, draw(1))
    assert not torch.equal(image, draw(2))


def test_per_image_doses_in_a_batch() -> None:
    doses = torch.tensor([1.0, 100.0]).view(2, 1, 1, 1)
    generator = torch.Generator().manual_seed(3)
    counts = torch_ops.shot_noise(torch.ones(2, 1, 300, 300), doses, generator)
    means = counts.mean(dim=(1, 2, 3))
    assert float(means[0]) == pytest.approx(1.0, rel=0.03)
    assert float(means[1]) == pytest.approx(100.0, rel=0.03)


@pytest.mark.parametrize("bad", [0.0, -2.0, float("nan"), torch.tensor([1.0, 0.0])])
def test_bad_dose_raises(bad) -> None:
    with pytest.raises(InvalidParameterError, match="dose"):
        torch_ops.shot_noise(torch.ones(2, 4, 4), bad)
