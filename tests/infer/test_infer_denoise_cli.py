"""dosewise denoise: one float32 TIFF per input, stacks stay stacks, inputs are never overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dosewise.infer import denoise as denoise_module
from dosewise.infer.denoise import Denoiser
from dosewise.io import read_image, write_image
from tests.helpers.cli import assert_one_line_error, invoke
from tests.helpers.discs import disc_frames


def test_denoise_writes_one_float32_tiff_per_input(restore_checkpoint: Path, tmp_path: Path) -> None:
    single = disc_frames((45, 70), seed=1)
    stack = disc_frames((3, 40, 40), seed=2)
    np.save(tmp_path / "single.npy", single)
    write_image(tmp_path / "stack.tif", stack, pixel_size_A=0.5)
    out = tmp_path / "out"
    result = invoke("denoise", tmp_path / "single.npy", tmp_path / "stack.tif", "-o", out,
                    "--model", restore_checkpoint, "--device", "cpu", "--tile", 64, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [row["frames"] for row in report["images"]] == [1, 3]
    denoiser = Denoiser.from_checkpoint(restore_checkpoint, device="cpu", tile_px=64)
    first = read_image(out / "single_denoised.tif")
    assert first.original_dtype == "float32" and first.shape == single.shape
    np.testing.assert_allclose(first.data, denoiser(single), atol=1e-5)
    second = read_image(out / "stack_denoised.tif")
    assert second.shape == stack.shape and second.pixel_size_A == pytest.approx(0.5)
    np.testing.assert_allclose(second.data, denoiser(stack), atol=1e-5)


def test_denoise_refuses_to_overwrite_an_input(restore_checkpoint: Path, tmp_path: Path) -> None:
    write_image(tmp_path / "a.tif", disc_frames((32, 32)))
    original = write_image(tmp_path / "a_denoised.tif", disc_frames((32, 32), seed=9))
    before = original.read_bytes()
    result = invoke("denoise", tmp_path / "a.tif", tmp_path / "a_denoised.tif", "-o", tmp_path,
                    "--model", restore_checkpoint, "--device", "cpu")
    assert_one_line_error(result, "refusing to overwrite input", "a_denoised.tif")
    assert original.read_bytes() == before
    assert not (tmp_path / "a_denoised_denoised.tif").exists()  # checked before any work


def test_missing_default_model_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(denoise_module, "DEFAULT_MODEL_RESOURCE", "weights/not-installed.ckpt")
    write_image(tmp_path / "a.tif", disc_frames((32, 32)))
    result = invoke("denoise", tmp_path / "a.tif", "-o", tmp_path / "out")
    assert_one_line_error(result, "no default denoising model is installed", "--model")
    assert not (tmp_path / "out").exists()
    result = invoke("stream", tmp_path / "a.tif", "-o", tmp_path / "out")
    assert_one_line_error(result, "no default denoising model is installed")


def test_bad_options_and_a_missing_checkpoint_are_one_line_errors(restore_checkpoint: Path, tmp_path: Path) -> None:
    image = write_image(tmp_path / "a.tif", np.ones((32, 32), np.float32))
    result = invoke("denoise", image, "-o", tmp_path / "out", "--model", restore_checkpoint,
                    "--backend", "onnx", "--precision", "bf16")
    assert_one_line_error(result, "onnx backend runs in float32")
    result = invoke("denoise", image, "-o", tmp_path / "out", "--model", tmp_path / "missing.ckpt")
    assert_one_line_error(result, "missing.ckpt", "not found")
