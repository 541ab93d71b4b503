"""Classical baselines on the probe lattice, and the Table 2 / Fig. 8 / Table 3 layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dosewise.analysis.interpolation import BASELINES, baseline_methods, interpolate_partial
from dosewise.analysis.supersample_eval import (
    PRECISIONS,
    evaluate_supersampling,
    load_eval_images,
    precision_markdown,
    precision_table,
)
from dosewise.errors import InvalidParameterError
from dosewise.physics.partial_scan import blur_target, partial_scan, upsample_partial


@pytest.mark.parametrize("method", BASELINES)
def test_every_baseline_is_exact_on_a_constant_image(method: str) -> None:
    scan = partial_scan(np.full((333, 517), 7.25, np.float32), 6, (2, 5))
    output = interpolate_partial(scan.samples, 6, (333, 517), (2, 5), method)
    assert output.shape == (333, 517)
    np.testing.assert_allclose(output, 7.25, rtol=1e-6)


@pytest.mark.parametrize("step", [4, 5, 7, 10])
@pytest.mark.parametrize("offset", [(0, 0), (3, 1)])
def test_bilinear_is_exact_on_a_linear_ramp_inside_the_samples(step: int, offset: tuple[int, int]) -> None:
    yy, xx = np.mgrid[:101, :127]
    ramp = (0.3 * yy + 0.7 * xx + 2.0).astype(np.float64)
    scan = partial_scan(ramp, step, offset)
    output = interpolate_partial(scan.samples, step, ramp.shape, offset, "bilinear")
    last_row = offset[0] + (scan.samples.shape[0] - 1) * step
    last_col = offset[1] + (scan.samples.shape[1] - 1) * step
    inside = (slice(offset[0], last_row + 1), slice(offset[1], last_col + 1))
    np.testing.assert_allclose(output[inside], ramp[inside], atol=1e-5 * np.ptp(ramp))
    assert np.abs(output - ramp).max() > 0.5  # outside the samples the edge is repeated


@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic", "lanczos"])
def test_measured_samples_are_reproduced(method: str) -> None:
    image = np.random.default_rng(0).random((64, 80))
    scan = partial_scan(image, 5, (4, 0))
    output = interpolate_partial(scan.samples, 5, image.shape, (4, 0), method)
    np.testing.assert_allclose(output[scan.mask], image[scan.mask], atol=1e-6)


def test_nearest_is_the_partial_scan_fill_and_bad_input_is_refused() -> None:
    image = np.random.default_rng(1).random((30, 41))
    scan = partial_scan(image, 4, (1, 3))
    np.testing.assert_array_equal(interpolate_partial(scan.samples, 4, image.shape, (1, 3), "nearest"),
                                  upsample_partial(scan.samples, 4, image.shape, (1, 3)).astype(np.float32))
    with pytest.raises(InvalidParameterError, match="unknown interpolation"):
        interpolate_partial(scan.samples, 4, image.shape, (1, 3), "spline")
    with pytest.raises(InvalidParameterError, match="do not fit"):
        interpolate_partial(scan.samples, 5, image.shape, (1, 3), "bilinear")


def _images(n: int = 3) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[:64, :72]
    return [(f"img{i}", np.sin(xx / rng.uniform(3, 6)) * np.cos(yy / 5.0) + rng.normal(0, 0.05, (64, 72)))
            for i in range(n)]


def test_table_has_methods_by_coverages_and_the_ratio_to_bilinear(tmp_path: Path) -> None:
    from dosewise.data.partial_scans import scale_to_unit

    images = _images(1)
    target = blur_target(scale_to_unit(images[0][1]))
    methods = {**baseline_methods(), "perfect": lambda scan: target}  # zero error by construction
    result = evaluate_supersampling(images[:1], methods, steps=(4, 5, 6, 8, 10))
    rows = result.rows()
    assert [(r["method"], r["coverage"]) for r in rows] == [
        (m, f"1/{s * s}") for m in [*BASELINES, "perfect"] for s in (4, 5, 6, 8, 10)]
    perfect_rows = [r for r in rows if r["method"] == "perfect"]
    assert all(r["root_mean_mse"] < 1e-6 and r["ratio_to_bilinear"] < 1e-4 for r in perfect_rows)
    bilinear = [r for r in rows if r["method"] == "bilinear"]
    assert all(r["ratio_to_bilinear"] == pytest.approx(1.0) for r in bilinear)
    header = result.markdown().splitlines()[0]
    assert header.count("mean") == 5 and header.count("std dev") == 5
    assert "| perfect | 0.000" in result.markdown()
    paths = result.write(tmp_path)
    assert all(p.is_file() for p in paths.values())
    curve = result.edge_curve()
    assert len(curve["bilinear"]) == 32  # distances 0..31 in a 64 x 72 image


def test_errors_grow_as_coverage_falls_and_nearest_loses_to_bilinear() -> None:
    rows = {(r["method"], r["step"]): r["root_mean_mse"]
            for r in evaluate_supersampling(_images(), baseline_methods(), steps=(4, 8)).rows()}
    assert rows[("bilinear", 8)] > rows[("bilinear", 4)]
    assert rows[("nearest", 4)] > rows[("bilinear", 4)]


def test_precision_table_8_bit_costs_accuracy_on_a_smooth_image() -> None:
    yy, xx = np.mgrid[:64, :64]
    smooth = [("s", np.sin(xx / 9.0) + np.cos(yy / 7.0))]
    table = precision_table(smooth, baseline_methods()["bilinear"], step=4, target_blur_sigma_px=0)
    assert list(table) == list(PRECISIONS)
    assert table["8-bit int"][0] > table["32-bit float"][0]
    assert table["16-bit float"][0] == pytest.approx(table["32-bit float"][0], rel=1e-2)
    assert "| root mean MSE |" in precision_markdown(table, 4)


def test_wrong_method_output_and_tiny_images_are_reported(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="returned shape"):
        evaluate_supersampling(_images(1), {"bad": lambda scan: np.zeros((3, 3))}, steps=(4,))
    import tifffile

    tifffile.imwrite(tmp_path / "small.tif", np.zeros((20, 20), np.float32))
    tifffile.imwrite(tmp_path / "big.tif", np.ones((300, 200), np.float32))
    with pytest.warns(UserWarning, match="smaller than"):
        images = load_eval_images([tmp_path], crop_px=128)
    assert [(name, image.shape) for name, image in images] == [("big", (128, 128))]
