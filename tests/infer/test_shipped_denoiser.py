"""The shipped default denoiser: installed with the package, and better than its input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage.metrics import peak_signal_noise_ratio

from dosewise.infer.denoise import Denoiser, default_model_path
from dosewise.io import read_image, write_image
from dosewise.simulate.particle_fields import particle_field
from tests.helpers.cli import invoke


def noisy_field(dose_e_per_px: float, seed: int = 123) -> tuple[np.ndarray, np.ndarray]:
    """A fresh particle field (a seed the training script never used) and its counts."""
    rng = np.random.default_rng(seed)
    clean = particle_field(192, rng).astype(np.float32)
    clean /= clean.mean()
    return clean, rng.poisson(dose_e_per_px * clean).astype(np.float32)


def test_the_default_model_is_installed_and_is_a_small_restoration_model() -> None:
    path = default_model_path()
    assert path.is_file() and path.stat().st_size < 5e6
    denoiser = Denoiser.from_checkpoint(path, device="cpu")
    assert denoiser.model.task == "restore" and denoiser.model.target_scale == "input"


def test_default_model_beats_the_noisy_input_by_5_db_in_the_inputs_units() -> None:
    denoiser = Denoiser.from_checkpoint(default_model_path(), device="cpu", tile_px=192)
    for dose in (5.0, 50.0):
        clean, counts = noisy_field(dose)
        restored = denoiser(counts)
        data_range = float(np.ptp(dose * clean))
        before = peak_signal_noise_ratio(dose * clean, counts, data_range=data_range)
        after = peak_signal_noise_ratio(dose * clean, restored, data_range=data_range)
        assert after > before + 5.0, (dose, before, after)
        assert abs(float(restored.mean()) / float(counts.mean()) - 1.0) < 0.05  # counts stay counts


def test_dosewise_denoise_without_model_uses_the_shipped_one(tmp_path: Path) -> None:
    _, counts = noisy_field(10.0)
    image = write_image(tmp_path / "frame.tif", counts)
    result = invoke("denoise", str(image), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    out = read_image(tmp_path / "out" / "frame_denoised.tif").data
    assert out.shape == counts.shape and np.std(out) < np.std(counts)
