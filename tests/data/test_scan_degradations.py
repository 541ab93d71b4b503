"""Artefacts of real scans on training crops: reproducible, shared by input and target, optional."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from dosewise.data.partial_scans import PartialScanDataset
from dosewise.data.scan_degradations import ScanDegradations, degrade_scan, draw_zoom
from dosewise.data.unlabeled import Source
from dosewise.errors import InvalidParameterError
from dosewise.physics.partial_scan import blur_target


def _scan_folder(tmp_path: Path) -> list[Source]:
    rng = np.random.default_rng(0)
    paths = []
    for index in range(3):
        path = tmp_path / f"scan{index}.tif"
        tifffile.imwrite(path, rng.random((80, 90), dtype=np.float32))
        paths.append(Source(path))
    return paths


def test_disabled_degradations_change_nothing() -> None:
    image = np.random.default_rng(1).random((32, 32), dtype=np.float32)
    off = ScanDegradations(enabled=False)
    np.testing.assert_array_equal(degrade_scan(image, off, np.random.default_rng(2)), image)
    assert draw_zoom(off, np.random.default_rng(2)) == 1.0


def test_each_degradation_acts_and_is_reproducible() -> None:
    image = np.tile(np.linspace(0, 1, 48, dtype=np.float32), (48, 1))
    only = dict(zoom_probability=0, jitter_probability=0, shear_probability=0, noise_probability=0)
    for name in ("jitter_probability", "shear_probability", "noise_probability"):
        config = ScanDegradations(**{**only, name: 1.0})
        first = degrade_scan(image, config, np.random.default_rng(3))
        np.testing.assert_array_equal(first, degrade_scan(image, config, np.random.default_rng(3)))
        assert first.shape == image.shape and np.abs(first - image).max() > 1e-3, name


def test_inversion_turns_dark_field_into_bright_field() -> None:
    image = np.random.default_rng(5).random((16, 16), dtype=np.float32)
    only = dict(zoom_probability=0, jitter_probability=0, shear_probability=0, noise_probability=0)
    inverted = degrade_scan(image, ScanDegradations(**only, invert_probability=1.0), np.random.default_rng(6))
    np.testing.assert_allclose(inverted, 1.0 - image, atol=1e-6)
    np.testing.assert_array_equal(degrade_scan(image, ScanDegradations(**only), np.random.default_rng(6)), image)


def test_shot_noise_follows_the_drawn_dose() -> None:
    config = ScanDegradations(zoom_probability=0, jitter_probability=0, shear_probability=0,
                              noise_probability=1, dose_counts_per_probe=(100, 100), readout_sigma=(0, 0))
    flat = np.ones((200, 200), np.float32)
    noisy = degrade_scan(flat, config, np.random.default_rng(4))
    # Poisson at 100 counts per probe: relative variance 1/100 (a flat scan is all peak)
    assert noisy.var() / noisy.mean() ** 2 == pytest.approx(1.0 / 100, rel=0.05)


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="zoom_range"):
        ScanDegradations(zoom_range=(2.0, 1.0))


def test_training_items_share_the_degradation_between_probes_and_target(tmp_path: Path) -> None:
    sources = _scan_folder(tmp_path)
    config = ScanDegradations(zoom_probability=1.0, jitter_probability=1.0, noise_probability=1.0)
    dataset = PartialScanDataset(sources, 32, [4], train=True, target_blur_sigma_px=0.0, degradations=config)
    x, target, step = dataset[(1, 2)]
    again = dataset[(1, 2)]
    assert torch.equal(x, again[0]) and torch.equal(target, again[1]) and int(step) == 4
    mask = x[1] > 0
    torch.testing.assert_close(x[0][mask], target[0][mask])  # the probes are the (degraded) full scan
    plain = PartialScanDataset(sources, 32, [4], train=True, target_blur_sigma_px=0.0)
    assert not torch.equal(plain[(1, 2)][1], target)
    validation = PartialScanDataset(sources, 32, [4], train=False, degradations=config)
    assert not validation.degradations.enabled  # validation crops stay as recorded


def test_a_step_too_large_for_the_crop_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="fit twice"):
        PartialScanDataset(_scan_folder(tmp_path), 16, [10])


def test_blurred_target_of_a_constant_is_the_constant() -> None:
    np.testing.assert_allclose(blur_target(np.full((16, 16), 0.4, np.float32), 2.5), 0.4, atol=1e-6)


def test_probe_blur_broadens_a_column_by_the_drawn_sigma() -> None:
    image = np.zeros((41, 41), np.float32)
    image[20, 20] = 1.0
    only = dict(zoom_probability=0, jitter_probability=0, shear_probability=0, noise_probability=0)
    config = ScanDegradations(**only, probe_blur_probability=1.0, probe_blur_sigma_px=(2.0, 2.0))
    blurred = degrade_scan(image, config, np.random.default_rng(0))
    profile = blurred[20] / blurred[20].sum()
    sigma_px = np.sqrt(np.sum(profile * (np.arange(41) - 20.0) ** 2))
    assert sigma_px == pytest.approx(2.0, rel=0.05)
    assert blurred.sum() == pytest.approx(1.0, rel=1e-3)  # blur keeps the intensity
    np.testing.assert_array_equal(degrade_scan(image, ScanDegradations(**only), np.random.default_rng(0)), image)
