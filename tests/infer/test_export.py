"""``dosewise export``: any image model as ONNX that onnxruntime runs like torch, with the
normalisation a consumer needs; supersamplers refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from dosewise.checkpoint import load_model
from dosewise.infer.denoise import default_model_path
from dosewise.infer.onnx_backend import OnnxForward
from dosewise.infer.supersample import default_supersampler_path
from tests.helpers.checkpoints import write_segmentation_checkpoint
from tests.helpers.cli import assert_one_line_error, invoke


@pytest.mark.parametrize("kind", ["denoiser", "segmenter"])
def test_onnxruntime_reproduces_torch_and_the_metadata_says_how_to_feed_it(kind: str, tmp_path: Path) -> None:
    checkpoint = default_model_path() if kind == "denoiser" else write_segmentation_checkpoint(
        tmp_path / "seg.ckpt", depth=4, max_dilation=3)
    result = invoke("export", str(checkpoint), "--onnx", str(tmp_path / "model.onnx"), "--tile", "64", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["max_abs_error"] <= 1e-4 * max(report["output_range"], 1e-6)
    tile = np.random.default_rng(3).normal(size=(2, 1, 64, 64)).astype(np.float32)
    with torch.no_grad():
        expected = load_model(checkpoint).network(torch.from_numpy(tile)).numpy()
    np.testing.assert_allclose(OnnxForward(tmp_path / "model.onnx")(tile), expected, atol=1e-4 * np.ptp(expected))
    stored = {p.key: p.value for p in onnx.load(str(tmp_path / "model.onnx")).metadata_props}
    assert stored["dosewise_task"] == ("restore" if kind == "denoiser" else "segment")
    assert json.loads(stored["dosewise_normalisation"])["kind"] == "zscore" and stored["dosewise_tile_px"] == "64"


def test_supersamplers_and_bad_targets_are_one_line_errors(tmp_path: Path) -> None:
    assert_one_line_error(invoke("export", str(default_supersampler_path()), "--onnx", str(tmp_path / "s.onnx")),
                          "cannot be exported to ONNX yet")
    assert_one_line_error(invoke("export", str(default_model_path()), "--onnx", str(tmp_path / "d.pt")),
                          "must end in .onnx")
    assert not any(tmp_path.iterdir())
