"""The self-supervised pretraining recipe (``dosewise pretrain``): pretext, generator, data."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from dosewise.config.base import Section
from dosewise.config.choices import Pretext
from dosewise.config.training import OptimiserConfig, RunSettings
from dosewise.data.corruptions import CorruptionConfig
from dosewise.data.normalise import Normalisation
from dosewise.models import ModelConfig



class UnlabeledDataConfig(Section):
    """Unlabeled micrographs: folder trees (any readable format), simulator stores, or both.

    ``max_images`` is the pretraining-set size (Kazimi et al. 2024 compares 50K, 100K, 200K): a
    seeded subset of everything found. Images smaller than ``crop_px`` are reflection-
    padded (``small_images: pad``) or skipped with a warning (``skip``).
    """

    renamed = {"crop_size": "crop_px"}

    folders: list[Path] = Field(default_factory=list)
    stores: list[Path] = Field(default_factory=list)
    store_key: str = "noisy"
    max_images: int | None = Field(default=None, ge=2)
    crop_px: int = Field(default=256, ge=16)
    small_images: Literal["pad", "skip"] = "pad"
    val_fraction: float = Field(default=0.05, gt=0, lt=1)
    normalisation: Normalisation = Field(default_factory=Normalisation)

    @model_validator(mode="after")
    def _some_source(self) -> UnlabeledDataConfig:
        if not self.folders and not self.stores:
            raise ValueError("give at least one folder or store of unlabeled images")
        return self


class GanConfig(Section):
    """Pix2Pix with a least-squares GAN loss (Kazimi et al. 2024, eq. 3 and §4.1)."""

    lambda_l1: float = Field(default=100.0, ge=0)
    discriminator_channels: int = Field(default=64, ge=1)
    discriminator_layers: int = Field(default=3, ge=1)


class GanOptimiserConfig(OptimiserConfig):
    """Adam with beta1 = 0.5, as Pix2Pix trains (also used for the autoencoder pretext)."""

    betas: tuple[float, float] = (0.5, 0.999)


class PretrainConfig(RunSettings):
    """A pretext task for one generator; its checkpoint initialises ``dosewise finetune``.

    ``gan``: generator + conditional PatchGAN discriminator, LSGAN + lambda * L1, Adam 2e-4
    with beta1 = 0.5 (Pix2Pix). ``dae``: the generator alone, L1 reconstruction of the clean
    crop from a corrupted one (the Kazimi et al. abstract uses Poisson noise:
    ``corruption.kind: poisson``).
    """

    pretext: Pretext = Field(default=Pretext.gan, validate_default=True)
    model: ModelConfig
    data: UnlabeledDataConfig
    corruption: CorruptionConfig = Field(default_factory=CorruptionConfig)
    gan: GanConfig = Field(default_factory=GanConfig)
    optimiser: GanOptimiserConfig = Field(default_factory=lambda: GanOptimiserConfig())
    out_dir: Path = Path("runs/pretrain")
