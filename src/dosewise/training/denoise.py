"""Denoising recipes (Katsuno et al. 2022): paired low/high dose, Noise2Noise, or simulated pairs.

All three train the restoration spine on a store of ``noisy`` -> ``clean`` pairs.
Katsuno et al. 2022 augments with flips only: rotations and crops were not effective there
because the camera's pixel-wise noise correlations are not rotation invariant, so whole frames,
flipped, are the default. Loss: L1 for paired and simulated data (Katsuno et al. 2022); L2 for
Noise2Noise, because the minimiser of L2 against an independent noisy target is the clean mean,
whereas L1's is the median, which is biased for the few-count Poisson noise of low-dose frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dosewise.config.base import apply_overrides
from dosewise.config.choices import PairKind
from dosewise.config.training import TrainConfig
from dosewise.errors import InvalidParameterError

DEFAULT_DENOISER = "resnet18-unet"


def denoise_config(
    store: str | Path,
    *,
    kind: PairKind | str = PairKind.paired,
    model: str = DEFAULT_DENOISER,
    crop_px: int | None = None,
    extra_noise_dose_e_per_px: tuple[float, float] | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """The :class:`TrainConfig` of a denoiser on ``store``.

    ``extra_noise_dose_e_per_px`` re-noises the stored ``clean`` images at a random dose
    per sample (a store of clean simulations then trains for a whole dose range).
    """
    try:
        kind = PairKind(kind).value
    except ValueError:
        raise InvalidParameterError(f"kind must be paired, noise2noise or simulated, got {kind!r}") from None
    data: dict[str, Any] = {
        "store": str(store),
        "input": "clean" if extra_noise_dose_e_per_px else "noisy",
        "target": "clean",
        "crop_px": crop_px,
        "flips": True,
        "rotations": False,
        "extra_noise_dose_e_per_px": extra_noise_dose_e_per_px,
        # Input and target share units (aligned pairs are rescaled onto the low-dose
        # frame, Noise2Noise exposures match, re-noised clean images stay in clean
        # units): learn in the input's units, so outputs come back in the user's.
        # A simulated store's detector counts and vacuum-1 targets do not share units.
        "target_scale": "stored" if kind == "simulated" and not extra_noise_dose_e_per_px else "input",
    }
    raw: dict[str, Any] = {
        "task": "restore",
        "model": {"name": model},
        "data": data,
        "loss": "l2" if kind == "noise2noise" else "l1",
    }
    return TrainConfig.validate_dict(apply_overrides(raw, overrides or {}))
