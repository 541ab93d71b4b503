"""The residual generator starts from an exact classical fill, so untrained it *is* the baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dosewise.analysis.interpolation import interpolate_partial
from dosewise.data.partial_scans import network_input
from dosewise.models import ModelConfig
from dosewise.models.dlss import RESIDUAL_UNET, build_supersampler, interpolate_from_mask, lattice_of
from dosewise.physics.partial_scan import partial_scan


def _generator(**options: int) -> torch.nn.Module:
    return build_supersampler(ModelConfig(name=RESIDUAL_UNET, in_channels=2, options=options)).eval()


def _run(network: torch.nn.Module, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return network(torch.from_numpy(network_input(image, mask))[None])[0, 0].numpy()


@pytest.mark.parametrize(("shape", "step", "offset"), [((64, 64), 4, (0, 0)), ((333, 517), 5, (2, 3)),
                                                       ((37, 41), 10, (4, 1)), ((96, 80), 7, (6, 0))])
def test_untrained_equals_bilinear_on_a_regular_lattice(shape, step: int, offset) -> None:
    image = np.random.default_rng(step).random(shape, dtype=np.float32)
    scan = partial_scan(image, step, offset)
    expected = interpolate_partial(scan.samples, step, shape, offset, "bilinear")
    np.testing.assert_allclose(_run(_generator(width=8), image, scan.mask), expected, rtol=0, atol=1e-6)


def test_an_irregular_mask_starts_from_normalised_convolution_and_keeps_the_probes() -> None:
    rng = np.random.default_rng(1)
    image = rng.random((70, 90), dtype=np.float32)
    mask = rng.random((70, 90)) < 0.05
    output = _run(_generator(width=8), image, mask)
    x = torch.from_numpy(network_input(image, mask))[None]
    start = interpolate_from_mask(x[:, :1], x[:, 1:2], 0.5)[0, 0].numpy()
    np.testing.assert_array_equal(output[mask], image[mask])
    np.testing.assert_allclose(output[~mask], start[~mask], atol=1e-6)


def test_a_trained_like_generator_still_keeps_every_measured_pixel() -> None:
    torch.manual_seed(0)
    network = _generator(width=8)
    for parameter in network.parameters():
        torch.nn.init.normal_(parameter, std=0.1)
    image = np.random.default_rng(2).random((50, 61), dtype=np.float32)
    scan = partial_scan(image, 5, (1, 2))
    output = _run(network, image, scan.mask)
    np.testing.assert_array_equal(output[scan.mask], image[scan.mask])
    assert np.abs(output - interpolate_partial(scan.samples, 5, image.shape, (1, 2), "bilinear")).max() > 1e-3


def test_lattice_detection() -> None:
    mask = np.zeros((20, 20), bool)
    mask[3::4, 1::4] = True
    assert lattice_of(torch.from_numpy(mask)) == (4, 3, 1)
    mask[0, 0] = True
    assert lattice_of(torch.from_numpy(mask)) is None
