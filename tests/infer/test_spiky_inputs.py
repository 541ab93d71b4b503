"""A float32 frame with a few huge spikes (1e30: a hot pixel, a corrupted readout) is finite data:
every model kind returns a finite result that still describes the rest of the frame."""

from __future__ import annotations

import numpy as np

from dosewise.checkpoint import load_model
from dosewise.infer.denoise import Denoiser, default_model_path
from dosewise.infer.segmentation import default_segmenter_path, segment
from dosewise.infer.supersample import Supersampler, default_supersampler_path, full_grid


def with_spikes(frame: np.ndarray) -> np.ndarray:
    spiky = frame.astype(np.float32).copy()
    spiky[3, 3], spiky[40, 50], spiky[60, 7] = 1e30, 3e30, -1e30
    return spiky


def test_the_denoiser_ignores_spikes() -> None:
    frame = np.random.default_rng(0).poisson(5.0, (96, 112)).astype(np.float32)
    denoiser = Denoiser.from_checkpoint(default_model_path(), device="cpu")
    clean, spiky = denoiser(frame), denoiser(with_spikes(frame))
    assert np.isfinite(spiky).all()
    assert abs(np.median(spiky) - np.median(clean)) < 0.05 * np.median(clean)


def test_the_segmenter_still_finds_the_particle() -> None:
    yy, xx = np.mgrid[:96, :112]
    disc = (yy - 70) ** 2 + (xx - 80) ** 2 < 14**2
    frame = np.random.default_rng(1).poisson(np.where(disc, 90.0, 200.0)).astype(np.float32)
    result = segment(with_spikes(frame), load_model(default_segmenter_path()), device="cpu")
    assert np.isfinite(result.probability).all() and result.mask[70, 80] and not result.mask[20, 20]


def test_the_supersampler_keeps_its_scale() -> None:
    probes = np.random.default_rng(2).random((20, 24)).astype(np.float32)
    supersampler = Supersampler(default_supersampler_path(), device="cpu")
    clean = supersampler.fill(*full_grid(probes, 5, (0, 0), (100, 120))).image
    probes[2, 2] = 1e30
    spiky = supersampler.fill(*full_grid(probes, 5, (0, 0), (100, 120))).image
    assert np.isfinite(spiky).all() and spiky[10, 10] == np.float32(1e30)
    far = np.ones(spiky.shape, bool)
    far[:40, :40] = False
    assert np.median(np.abs(spiky[far] - clean[far])) < 0.02
