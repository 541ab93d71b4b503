"""The shipped supersampler (dosewise/weights/supersample-default.ckpt): loads offline, fills
scans of odd sizes without touching measured pixels, and is the CLI's default."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

import dosewise.infer.supersample as supersample_module
from dosewise.analysis.interpolation import interpolate_partial
from dosewise.checkpoint import load_supersampler
from dosewise.data.partial_scans import scale_to_unit
from dosewise.infer.supersample import Supersampler, default_supersampler_path
from dosewise.physics.partial_scan import blur_target, partial_scan
from tests.helpers.cli import assert_one_line_error, invoke
from tests.helpers.supersample import lattice_scan


def test_the_shipped_model_is_small_and_loads_offline() -> None:
    path = default_supersampler_path()
    assert path.stat().st_size < 5e6
    model = load_supersampler(path)
    assert model.model_config.name == "dlss-residual-unet"
    assert set(model.steps) >= {4, 5, 6, 8, 10}


def test_odd_sizes_keep_every_measured_pixel_and_earn_a_trust() -> None:
    supersampler = Supersampler(default_supersampler_path(), device="cpu")
    image = lattice_scan(np.random.default_rng(4), size=200)[:133, :171].astype(np.float32) * 37.0 + 5.0
    for step, offset in ((4, (0, 0)), (5, (2, 1)), (10, (9, 3))):
        scan = partial_scan(image, step, offset)
        filled = supersampler.fill(scan.filled, scan.mask)
        assert filled.image.shape == (133, 171) and np.isfinite(filled.image).all()
        np.testing.assert_array_equal(filled.image[scan.mask], image[scan.mask])
        assert filled.trust is not None and 0.0 <= filled.trust <= 1.0


def test_the_shipped_model_beats_bilinear_on_synthetic_lattice_scans() -> None:
    supersampler = Supersampler(default_supersampler_path(), device="cpu")
    rng = np.random.default_rng(11)
    errors = {"dosewise": 0.0, "bilinear": 0.0}
    for _ in range(3):
        image = scale_to_unit(lattice_scan(rng))
        target = blur_target(image)
        for step in (4, 6, 8):
            scan = partial_scan(image, step)
            errors["dosewise"] += np.mean((supersampler(scan.filled, scan.mask) - target) ** 2)
            errors["bilinear"] += np.mean((interpolate_partial(scan.samples, step, image.shape) - target) ** 2)
    assert np.sqrt(errors["dosewise"] / errors["bilinear"]) < 0.95  # measured 0.88 (chunk-13 weights)


def test_dosewise_supersample_needs_no_model(tmp_path: Path) -> None:
    image = lattice_scan(np.random.default_rng(5), size=90)
    scan = partial_scan(image, 5)
    tifffile.imwrite(tmp_path / "small.tif", scan.samples)
    result = invoke("supersample", str(tmp_path / "small.tif"), "--coverage", "1/25", "-o", str(tmp_path / "out"),
                    "--device", "cpu", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert Path(report["model"]).name == "supersample-default.ckpt"
    assert 0.0 <= report["images"][0]["trust"] <= 1.0
    output = tifffile.imread(tmp_path / "out" / "small_supersampled.tif")
    assert output.shape == (90, 90)
    np.testing.assert_array_equal(output[scan.mask], image[scan.mask])


def test_a_missing_shipped_model_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(supersample_module, "DEFAULT_SUPERSAMPLER", "not-installed.ckpt")
    tifffile.imwrite(tmp_path / "small.tif", np.zeros((20, 20), np.float32))
    result = invoke("supersample", str(tmp_path / "small.tif"), "--coverage", "1/25", "-o", str(tmp_path / "out"))
    assert_one_line_error(result, "no default supersampling model is installed", "--model")
    assert not (tmp_path / "out").exists()
