"""MTF curve, filter, presets and parsing."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from dosewise.errors import InvalidParameterError
from dosewise.physics import MTF_PRESETS, MTFParams, MTFPreset, apply_mtf, mtf_curve, parse_mtf


def test_mtf_curve_limits_and_half_maximum() -> None:
    assert mtf_curve(0.0, 0.25, 2.5, 0.1) == pytest.approx(1.0)
    assert mtf_curve(1e6, 0.25, 2.5, 0.1) == pytest.approx(0.1)
    # c0 is the half-maximum of the part above the tail
    assert mtf_curve(0.25, 0.25, 2.5, 0.1) == pytest.approx(0.1 + 0.45)


def test_apply_mtf_keeps_mean_and_filters_a_known_cosine() -> None:
    h, w = 64, 48
    y, x = np.mgrid[0:h, 0:w]
    freq_cycles_per_px = 8 / w  # q~ = 2 * 8/48 = 1/3
    image = (3.0 + np.cos(2 * np.pi * freq_cycles_per_px * x)).astype(np.float32)
    params = MTFParams(c0=0.25, c3=2.5, C=0.1)
    out = apply_mtf(image, params)
    gain = float(mtf_curve(2 * freq_cycles_per_px, 0.25, 2.5, 0.1))
    assert out.dtype == np.float32
    expected = 3.0 + gain * np.cos(2 * np.pi * freq_cycles_per_px * x)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_apply_mtf_works_on_stacks_and_odd_sizes() -> None:
    rng = np.random.default_rng(0)
    stack = rng.random((3, 31, 17)).astype(np.float32)
    params = MTFParams(c0=0.4, c3=3.0)
    out = apply_mtf(stack, params)
    assert out.shape == stack.shape
    np.testing.assert_allclose(out[1], apply_mtf(stack[1], params), atol=1e-6)
    np.testing.assert_allclose(out.mean(axis=(1, 2)), stack.mean(axis=(1, 2)), rtol=1e-5)


def test_mtf_params_are_validated_and_frozen() -> None:
    for bad in ({"c0": 0, "c3": 2}, {"c0": 0.3, "c3": -1}, {"c0": 0.3, "c3": 2, "C": 1.0}):
        with pytest.raises(ValidationError):
            MTFParams(**bad)
    params = MTFParams(c0=0.3, c3=2)
    with pytest.raises(ValidationError):
        params.c0 = 0.5  # type: ignore[misc]


def test_presets_match_seed_table3_and_sample_inside_ranges() -> None:
    assert list(MTF_PRESETS) == ["mtf1", "mtf2", "mtf3", "mtf4", "mtf5"]
    assert MTF_PRESETS["mtf4"].c0_range == (0.25, 0.6)
    assert MTF_PRESETS["mtf2"].c3_range == (1.0, 5.0)
    rng = np.random.default_rng(0)
    for preset in MTF_PRESETS.values():
        assert preset.n0_range_e_per_px == (0.005, 0.015)
        for _ in range(20):
            params, n0 = preset.sample(rng)
            assert preset.c0_range[0] <= params.c0 <= preset.c0_range[1]
            assert preset.c3_range[0] <= params.c3 <= preset.c3_range[1]
            assert params.C == 0.0
            assert 0.005 <= n0 <= 0.015
    assert MTF_PRESETS["mtf3"].sample(3) == MTF_PRESETS["mtf3"].sample(3)


def test_parse_mtf() -> None:
    assert parse_mtf("MTF3") is MTF_PRESETS["mtf3"]
    assert isinstance(parse_mtf("mtf1"), MTFPreset)
    assert parse_mtf(" 0.25, 2.5 ,0.1") == MTFParams(c0=0.25, c3=2.5, C=0.1)
    for bad in ("mtf9", "0.25,2.5", "a,b,c", ""):
        with pytest.raises(InvalidParameterError, match="unknown MTF"):
            parse_mtf(bad)
    with pytest.raises(InvalidParameterError, match="C"):
        parse_mtf("0.25,2.5,1.5")
