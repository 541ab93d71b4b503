"""Denoiser: training-time normalisation, output in the target's units, torch == ONNX."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.infer.denoise import Denoiser
from dosewise.infer.onnx_backend import OnnxForward
from dosewise.models import ModelConfig
from dosewise.checkpoint import load_model
from tests.helpers.discs import disc_frames


def assert_agree(a: np.ndarray, b: np.ndarray, fraction: float = 1e-3) -> float:
    """Max |a - b| relative to b's range; asserts it is below ``fraction``."""
    value_range = float(b.max() - b.min())
    assert value_range > 0
    relative = float(np.abs(a - b).max()) / value_range
    assert relative < fraction, relative
    return relative


def test_torch_output_is_the_networks_restored_image_in_target_units(restore_checkpoint: Path) -> None:
    image = disc_frames((77, 131))
    denoiser = Denoiser.from_checkpoint(restore_checkpoint, device="cpu", tile_px=64)
    out = denoiser(image)
    assert out.shape == image.shape and out.dtype == np.float32
    # Same as one whole-image run of LoadedModel.predict (z-scored input, raw output).
    reference = load_model(restore_checkpoint).predict(image)
    np.testing.assert_allclose(out, reference, atol=1e-5 * float(np.ptp(reference)))
    # The target is clean intensity (vacuum 1), not counts (~20) nor z-scores (mean 0).
    assert 0.3 < float(np.median(out)) < 2.0


def test_input_scaled_model_returns_the_frames_own_units_for_any_gain(restore_checkpoint: Path) -> None:
    """target_scale="input" (every denoise recipe): output = network * std + mean of the
    frame, so a camera with 10x the gain and an offset gets 10x the output plus that offset."""
    model = replace(load_model(restore_checkpoint), target_scale="input")
    denoiser = Denoiser(model, device="cpu", tile_px=64)
    frames = disc_frames((2, 64, 80))
    out = denoiser(frames)
    scaled = denoiser(10.0 * frames + 100.0)
    np.testing.assert_allclose(scaled, 10.0 * out + 100.0, rtol=1e-4, atol=1e-2)
    raw = model.network(torch.from_numpy(model.normalisation.apply(frames[:1]))[:, None])
    mean, std = frames[0].mean(), frames[0].std()
    np.testing.assert_allclose(out[0], raw[0, 0].detach().numpy() * std + mean, rtol=1e-4, atol=1e-3)


def test_onnx_and_torch_agree_on_an_odd_sized_image_and_a_batch(checkpoint_copy: Path) -> None:
    torch_denoiser = Denoiser.from_checkpoint(checkpoint_copy, device="cpu", tile_px=64, batch_size=3)
    onnx_denoiser = Denoiser.from_checkpoint(checkpoint_copy, backend="onnx", tile_px=64, batch_size=3)
    image = disc_frames((77, 131))
    assert_agree(onnx_denoiser(image), torch_denoiser(image))
    batch = disc_frames((3, 77, 131), seed=2)
    onnx_batch = onnx_denoiser(batch)
    assert onnx_batch.shape == batch.shape and onnx_batch.dtype == np.float32
    assert_agree(onnx_batch, torch_denoiser(batch))
    # A batch gives what its frames give one at a time.
    np.testing.assert_allclose(onnx_batch[1], onnx_denoiser(batch[1]), rtol=0, atol=1e-5)


def test_onnx_export_is_cached_beside_the_checkpoint_and_refreshed(checkpoint_copy: Path) -> None:
    cache = checkpoint_copy.with_name(checkpoint_copy.name + ".onnx")
    Denoiser.from_checkpoint(checkpoint_copy, backend="onnx", tile_px=64)
    assert cache.is_file()
    exported_at = cache.stat().st_mtime_ns
    Denoiser.from_checkpoint(checkpoint_copy, backend="onnx", tile_px=64)
    assert cache.stat().st_mtime_ns == exported_at  # reused
    # A newer checkpoint, or another tile size, gets a fresh export.
    os.utime(checkpoint_copy, ns=(exported_at + 10**9, exported_at + 10**9))
    Denoiser.from_checkpoint(checkpoint_copy, backend="onnx", tile_px=64)
    assert cache.stat().st_mtime_ns > exported_at
    Denoiser.from_checkpoint(checkpoint_copy, backend="onnx", tile_px=32)
    assert OnnxForward(cache).tile_px == 32
    assert not [p for p in cache.parent.iterdir() if p.name.startswith(".")]  # no temp files left


def test_export_onnx_to_a_chosen_path(restore_checkpoint: Path, tmp_path: Path) -> None:
    denoiser = Denoiser.from_checkpoint(restore_checkpoint, device="cpu", tile_px=64)
    path = denoiser.export_onnx(tmp_path / "model.onnx")
    session = OnnxForward(path)
    tiles = np.random.default_rng(0).normal(size=(2, 1, 64, 64)).astype(np.float32)
    with torch.no_grad():
        expected = denoiser.model.network(torch.from_numpy(tiles)).numpy()
    assert_agree(session(tiles), expected)


@dataclass
class FakeModel:
    network: nn.Module
    normalisation: object
    task: str = "restore"
    model_config: ModelConfig = field(default_factory=lambda: ModelConfig(name="msdnet"))


class Identity:
    def apply(self, image: np.ndarray) -> np.ndarray:
        return np.asarray(image, np.float32)


def test_user_errors_are_one_line_dosewise_errors() -> None:
    model = FakeModel(nn.Conv2d(1, 1, 3, padding=1), Identity())
    with pytest.raises(InvalidParameterError, match="not restoration"):
        Denoiser(FakeModel(model.network, Identity(), task="segment"), device="cpu")
    with pytest.raises(InvalidParameterError, match="backend must be one of"):
        Denoiser(model, backend="tensorrt")
    with pytest.raises(InvalidParameterError, match="onnx backend runs in float32"):
        Denoiser(model, backend="onnx", precision="bf16")
    denoiser = Denoiser(model, device="cpu", tile_px=32, overlap_px=4)
    bad = np.ones((40, 40), np.float32)
    bad[3, 3] = np.nan
    with pytest.raises(InvalidImageError, match="NaN"):
        denoiser(bad)
    with pytest.raises(InvalidImageError, match="shape"):
        denoiser(np.ones((2, 2, 8, 8), np.float32))


def test_in_memory_model_runs_on_onnx_without_a_checkpoint() -> None:
    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 3, padding=1))
    model = FakeModel(network, Identity())
    image = np.random.default_rng(0).normal(size=(50, 70)).astype(np.float32)
    expected = Denoiser(model, device="cpu", tile_px=32, overlap_px=8)(image)
    assert_agree(Denoiser(model, backend="onnx", tile_px=32, overlap_px=8)(image), expected)


def test_an_export_that_does_not_reproduce_the_network_is_refused(
    monkeypatch: pytest.MonkeyPatch, restore_checkpoint: Path, tmp_path: Path
) -> None:
    from dosewise.infer import onnx_backend

    # The raw MSD-net's in-place buffer writes are lost by the tracer: the check must see it.
    monkeypatch.setattr(onnx_backend, "traceable_copy", lambda network: network)
    network = load_model(restore_checkpoint).network
    with pytest.raises(InvalidParameterError, match="does not reproduce"):
        onnx_backend.export_onnx(network, tmp_path / "broken.onnx", tile_px=32)
    assert list(tmp_path.iterdir()) == []
