"""Self-calibration: a network that does not help the held-out probes of a scan is not trusted
on it, so the output falls back to bilinear; one that helps keeps its correction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dosewise.analysis.interpolation import interpolate_partial
from dosewise.checkpoint import LoadedSupersampler
from dosewise.data.partial_scans import scale_to_unit
from dosewise.infer.supersample import Supersampler
from dosewise.models import ModelConfig
from dosewise.models.dlss import RESIDUAL_UNET, build_supersampler
from dosewise.physics.partial_scan import blur_target, partial_scan
from tests.helpers.supersample import lattice_scan

CONFIG = ModelConfig(name=RESIDUAL_UNET, in_channels=2, options={"width": 8})


def _supersampler(network: torch.nn.Module, **kwargs: object) -> Supersampler:
    return Supersampler(LoadedSupersampler(network.eval(), CONFIG, [4, 5, 6], 2.5), device="cpu", **kwargs)


def _noise_network() -> torch.nn.Module:
    """A correction that is a fixed function of the input with nothing to do with the truth."""
    torch.manual_seed(0)
    network = build_supersampler(CONFIG)
    for parameter in network.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    return network


def test_an_untrained_network_is_bilinear_and_earns_no_trust() -> None:
    image = lattice_scan(np.random.default_rng(0), size=96)
    scan = partial_scan(image, 4, (1, 2))
    filled = _supersampler(build_supersampler(CONFIG)).fill(scan.filled, scan.mask)
    assert filled.trust == 0.0
    bilinear = interpolate_partial(scan.samples, 4, image.shape, (1, 2))
    np.testing.assert_allclose(filled.image, bilinear, rtol=0, atol=1e-5 * np.ptp(image))


def test_a_harmful_correction_is_not_trusted_and_the_output_stays_near_bilinear() -> None:
    image = scale_to_unit(lattice_scan(np.random.default_rng(1), size=128))
    scan = partial_scan(image, 5)
    bilinear = interpolate_partial(scan.samples, 5, image.shape)
    raw = _supersampler(_noise_network(), calibrate=False).fill(scan.filled, scan.mask)
    calibrated = _supersampler(_noise_network()).fill(scan.filled, scan.mask)
    assert raw.trust is None and calibrated.trust is not None and calibrated.trust < 0.1
    target = blur_target(image)
    raw_error = np.mean((raw.image - target) ** 2)
    calibrated_error = np.mean((calibrated.image - target) ** 2)
    bilinear_error = np.mean((bilinear - target) ** 2)
    assert raw_error > 2 * bilinear_error  # the uncalibrated network is much worse than bilinear ...
    assert calibrated_error < 1.05 * bilinear_error  # ... the calibrated one is not
    np.testing.assert_array_equal(calibrated.image[scan.mask], image[scan.mask])


def test_a_trained_network_is_trusted_on_scans_like_its_training_data(trained_supersampler: Path) -> None:
    supersampler = Supersampler(trained_supersampler, tile_px=96, overlap_px=32, device="cpu")
    rng = np.random.default_rng(7)
    trusts, errors, baseline = [], [], []
    for _ in range(4):
        image = scale_to_unit(lattice_scan(rng))
        scan = partial_scan(image, 4)
        filled = supersampler.fill(scan.filled, scan.mask)
        trusts.append(filled.trust)
        errors.append(np.mean((filled.image - blur_target(image)) ** 2))
        baseline.append(np.mean((interpolate_partial(scan.samples, 4, image.shape) - blur_target(image)) ** 2))
    assert min(trusts) > 0.5
    assert np.mean(errors) < np.mean(baseline)


def test_irregular_masks_and_tiny_scans_are_not_calibrated() -> None:
    rng = np.random.default_rng(3)
    image = rng.random((60, 60), dtype=np.float32)
    supersampler = _supersampler(_noise_network())
    irregular = rng.random((60, 60)) < 0.06
    assert supersampler.fill(image, irregular).trust is None
    tiny = partial_scan(image[:12, :12], 4)  # 3 x 3 probes: one sub-lattice of step 8 has a single row
    assert supersampler.fill(tiny.filled, tiny.mask).trust is None


def test_an_untrained_supersampler_is_bilinear_on_scans_smaller_and_larger_than_a_tile() -> None:
    supersampler = _supersampler(build_supersampler(CONFIG), calibrate=False, tile_px=64, overlap_px=16)
    for shape, step, offset in [((37, 50), 4, (1, 3)), ((150, 131), 5, (4, 0)), ((64, 200), 7, (0, 6))]:
        image = np.random.default_rng(step).random(shape, dtype=np.float32)
        scan = partial_scan(image, step, offset)
        expected = interpolate_partial(scan.samples, step, shape, offset)
        np.testing.assert_allclose(supersampler(scan.filled, scan.mask), expected, rtol=0, atol=1e-5)
