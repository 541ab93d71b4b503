"""Input corruptions for self-supervised pretext tasks (Kazimi et al. 2024, §4.1; the Kazimi et al.
abstract).

A pretext pair is (corrupted crop, clean crop). Both start as the same crop scaled
to about [0, 1] by :class:`ScaleToUnit`; the corruption then acts on the input only,
so the network learns to undo it. Three kinds, chosen by :class:`CorruptionConfig`:

- ``classic`` (Kazimi et al. 2024): additive Gaussian noise and a Gaussian blur of random strength;
- ``poisson`` (the denoising autoencoder of the Kazimi et al. abstract): shot noise at a random
  dose;
- ``physical`` (dosewise's detector model, Larsen et al. 2023, eq. 3): MTF[Poisson(N_D I)] +
  Poisson(N0).

Flips and rotations, applied to both arrays, come from the usual transforms.
"""

from __future__ import annotations

import math
from enum import Enum

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dosewise.data.transforms import Pair
from dosewise.physics import MTF_PRESETS, detector_image, gaussian_blur, shot_noise


class CorruptionKind(str, Enum):
    """The three corruptions of the module docstring."""

    classic = "classic"
    poisson = "poisson"
    physical = "physical"


class CorruptionConfig(BaseModel):
    """How pretext inputs are corrupted; ranges are drawn uniformly (doses log-uniformly).
    ``kind`` takes a :class:`CorruptionKind` or its value and holds the value."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    kind: CorruptionKind = Field(default=CorruptionKind.classic, validate_default=True)
    noise_sigma: tuple[float, float] = (0.02, 0.2)
    blur_sigma_px: tuple[float, float] = (0.0, 1.5)
    blur_probability: float = Field(default=0.5, ge=0, le=1)
    dose_e_per_px: tuple[float, float] = (1.0, 100.0)
    mtf: str = "mtf4"

    @model_validator(mode="after")
    def _check(self) -> CorruptionConfig:
        for name in ("noise_sigma", "blur_sigma_px"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be [low, high] with 0 <= low <= high")
        low, high = self.dose_e_per_px
        if not 0 < low <= high:
            raise ValueError("dose_e_per_px must be [low, high] with 0 < low <= high")
        if self.mtf not in MTF_PRESETS:
            raise ValueError(f"mtf must be one of {', '.join(MTF_PRESETS)}")
        return self


class ScaleToUnit:
    """Scale both arrays by the input's 0.5-99.5 percentile range, so that every image,
    whatever its detector units, enters the pretext task on the same [0, 1]-like scale."""

    def __call__(self, image: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> Pair:
        low, high = np.percentile(image, (0.5, 99.5))
        scale = 1.0 / max(float(high - low), 1e-12)
        return ((image - low) * scale).astype(np.float32), ((target - low) * scale).astype(np.float32)


class Corrupt:
    """Corrupt the input of a (clean, clean) pair as :class:`CorruptionConfig` says."""

    def __init__(self, config: CorruptionConfig) -> None:
        self.config = config

    def __call__(self, image: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> Pair:
        config = self.config
        if config.kind == "classic":
            return self._classic(image, rng), target
        low, high = config.dose_e_per_px
        dose = math.exp(rng.uniform(math.log(low), math.log(high)))
        intensity = np.clip(image, 0.0, None)
        if config.kind == "poisson":
            counts = shot_noise(intensity, dose, seed=rng)
        else:
            mtf, n0_e_per_px = MTF_PRESETS[config.mtf].sample(rng)
            counts = detector_image(intensity, dose, mtf=mtf, n0_e_per_px=n0_e_per_px, seed=rng)
        return (counts / dose).astype(np.float32), target

    def _classic(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        config = self.config
        if rng.random() < config.blur_probability:
            image = gaussian_blur(image, float(rng.uniform(*config.blur_sigma_px)))
        sigma = float(rng.uniform(*config.noise_sigma))
        return (image + rng.normal(0.0, sigma, size=image.shape)).astype(np.float32)
