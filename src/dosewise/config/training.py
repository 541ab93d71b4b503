"""The supervised training recipe (:class:`TrainConfig`) and what every training run shares.

A run's resolved config is written beside its checkpoints and carried inside
them, so every result can be traced to the exact settings that produced it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from dosewise.config.base import Recipe, Section
from dosewise.data.normalise import Normalisation
from dosewise.models import ModelConfig

Task = Literal["segment", "restore"]
LossName = Literal["bce", "bce_dice", "l1", "l2", "l1_l2"]
_DEFAULT_LOSS: dict[str, LossName] = {"segment": "bce", "restore": "l1"}
_DEFAULT_TARGET = {"segment": "mask", "restore": "clean"}


class DataConfig(Section):
    """Where the pairs come from and how they are augmented.

    Either ``store`` (a :class:`~dosewise.io.DatasetStore`) or ``images_dir`` +
    ``masks_dir`` (segmentation only). ``target`` defaults to "mask" (segment) or
    "clean" (restore). Relative paths are relative to the working directory.
    ``val_images_dir`` + ``val_masks_dir`` name the validation pairs of a folder source
    (then every pair of ``images_dir`` trains: with two labelled images, both learn).
    """

    renamed = {"crop_size": "crop_px"}

    store: Path | None = None
    images_dir: Path | None = None
    masks_dir: Path | None = None
    val_images_dir: Path | None = None
    val_masks_dir: Path | None = None
    input: str = "noisy"
    target: str | None = None
    class_id: int | None = Field(default=None, ge=1)
    crop_px: int | None = Field(default=256, ge=8)
    flips: bool = True
    rotations: bool = True
    extra_noise_dose_e_per_px: tuple[float, float] | None = None
    normalisation: Normalisation = Field(default_factory=Normalisation)
    # Restoration: "stored" learns the target in its stored units (vacuum ≈ 1 for
    # simulations); "input" maps the target with the input's normalisation, so the
    # network predicts in the input's units and inference maps its output back with
    # the frame's own statistics (denoised counts stay counts, for any camera gain).
    target_scale: Literal["stored", "input"] = "stored"
    val_fraction: float = Field(default=0.2, gt=0, lt=1)
    test_fraction: float = Field(default=0.0, ge=0, lt=1)
    split_seed: int = 0
    # A small labelled set: keep only this many training samples (a seeded subset of the
    # training split; validation and test are unchanged).
    max_train_samples: int | None = Field(default=None, ge=1)
    # Random crops drawn from each training image per epoch: a few large labelled images still
    # make an epoch of many steps, so "epoch 5" is a useful amount of training at any k.
    repeats: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        folders = (self.images_dir, self.masks_dir)
        if self.store is None and None in folders:
            raise ValueError("give either store or both images_dir and masks_dir")
        if self.store is not None and folders != (None, None):
            raise ValueError("give either store or images_dir/masks_dir, not both")
        if (self.val_images_dir is None) != (self.val_masks_dir is None):
            raise ValueError("give both val_images_dir and val_masks_dir, or neither")
        if self.val_images_dir is not None and self.images_dir is None:
            raise ValueError("val_images_dir/val_masks_dir go with images_dir/masks_dir, not a store")
        if self.extra_noise_dose_e_per_px is not None:
            low, high = self.extra_noise_dose_e_per_px
            if not 0 < low <= high:
                raise ValueError(
                    "extra_noise_dose_e_per_px must be [low, high] with 0 < low <= high"
                )
        return self


class OptimiserConfig(Section):
    """Adam (lr 2e-4, as Kazimi et al. 2024 and Katsuno et al. 2022 train)."""

    name: Literal["adam"] = "adam"
    lr: float = Field(default=2e-4, gt=0)
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = Field(default=0.0, ge=0)


class RunSettings(Recipe):
    """What every Lightning run shares: length, batch, optimiser, hardware, checkpoints,
    output, seed. ``optimiser`` is here so every recipe spells the learning rate
    ``optimiser.lr``."""

    renamed = {"lr": "optimiser.lr", "betas": "optimiser.betas"}

    epochs: int = Field(default=60, ge=1)
    # Wall-clock budget: training stops at whichever comes first, epochs or time. A run stopped
    # by time resumes, but no longer bit-exactly (the stop point depends on the machine's speed).
    max_minutes: float | None = Field(default=None, gt=0)
    batch_size: int = Field(default=8, ge=1)
    optimiser: OptimiserConfig = Field(default_factory=OptimiserConfig)
    num_workers: int = Field(default=0, ge=0)
    precision: Literal["32", "16-mixed", "bf16-mixed"] = "32"
    device: str = "auto"
    strategy: str = "auto"
    devices: int | list[int] | Literal["auto"] = "auto"
    num_nodes: int = Field(default=1, ge=1)
    checkpoint_every_n_epochs: int = Field(default=5, ge=1)
    out_dir: Path = Path("runs/train")
    seed: int = 0


class TrainConfig(RunSettings):
    """Everything a supervised training run needs; see docs/training.md for each field.

    ``init`` fine-tunes: the network starts from the matching tensors of a training or
    pretraining checkpoint (all but the head), instead of random weights.
    """

    task: Task = "segment"
    model: ModelConfig
    data: DataConfig
    loss: LossName | None = None
    init: Path | None = None
    threshold: float = Field(default=0.5, gt=0, lt=1)

    @model_validator(mode="after")
    def _task_defaults(self) -> TrainConfig:
        if self.loss is None:
            self.loss = _DEFAULT_LOSS[self.task]
        if self.data.target is None:
            self.data.target = _DEFAULT_TARGET[self.task]
        if self.task == "restore" and self.data.store is None:
            raise ValueError(
                "data: restoration reads input/target pairs from a store; set data.store"
            )
        if (self.task == "segment") != (self.loss in ("bce", "bce_dice")):
            raise ValueError(f"loss {self.loss!r} does not fit task {self.task!r}")
        return self
