"""One LightningModule for every image-to-image task (segmentation, restoration).

The network comes from :func:`dosewise.models.build_model`, the loss from
:func:`~dosewise.training.losses.make_loss`; the full :class:`TrainConfig` is saved
as hyperparameters so a checkpoint alone rebuilds the model (see
:mod:`dosewise.checkpoint`).
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch

from dosewise.checkpoint import CHECKPOINT_KEY, checkpoint_record
from dosewise.config.training import TrainConfig
from dosewise.metrics.torch_batch import dice_iou, psnr
from dosewise.models import build_model
from dosewise.training.losses import make_loss
from dosewise.training.transfer import transfer_weights


def monitored_metric(task: str) -> tuple[str, str]:
    """The validation metric that picks the best checkpoint (Kazimi et al. 2024: Dice, or L1 for
    restoration), and whether higher or lower is better."""
    return ("val/dice", "max") if task == "segment" else ("val/l1", "min")


def seed_epoch(module: pl.LightningModule, seed: int) -> None:
    """Any torch randomness in training (dropout, noise) depends on (seed, epoch, rank) only,
    so a run resumed at epoch k continues exactly as an uninterrupted run would."""
    sequence = np.random.SeedSequence(seed, spawn_key=(module.current_epoch, module.global_rank))
    torch.manual_seed(int(sequence.generate_state(1, dtype=np.uint64)[0] >> 1))


def run_record(module: pl.LightningModule, kind: str) -> dict[str, Any]:
    """The dosewise record of a checkpoint saved now: its kind and the latest metrics."""
    metrics = {
        name: float(value)
        for name, value in module.trainer.callback_metrics.items()
        if name.startswith(("val/", "train/"))
    }
    return checkpoint_record(kind, metrics)


def apply_configured_lr(module: pl.LightningModule, lr: float) -> None:
    """The configured learning rate wins over a resumed optimiser's, so a long campaign can
    lower it between chunks (Lightning restores the old one with the Adam moments)."""
    for optimiser in module.trainer.optimizers:
        for group in optimiser.param_groups:
            group["lr"] = lr


class ImageToImageModule(pl.LightningModule):
    """Network + loss + metrics for one :class:`TrainConfig`."""

    def __init__(self, config: TrainConfig | dict[str, Any]) -> None:
        super().__init__()
        if not isinstance(config, TrainConfig):
            config = TrainConfig.validate_dict(config)
        self.config = config
        self.save_hyperparameters(config.model_dump(mode="json"))
        self.network = build_model(config.model)
        self.transfer_report = transfer_weights(self.network, config.init) if config.init else None
        self.loss_fn = make_loss(config.loss)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def on_train_epoch_start(self) -> None:
        seed_epoch(self, self.config.seed)

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        x, y = batch
        loss = self.loss_fn(self(x), y)
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=len(x), sync_dist=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        output = self(x)
        metrics = {"val/loss": self.loss_fn(output, y).expand(len(x))}
        if self.config.task == "segment":
            prediction = torch.sigmoid(output) > self.config.threshold
            metrics["val/dice"], metrics["val/iou"] = dice_iou(prediction, y > 0.5)
        else:
            metrics["val/l1"] = (output - y).abs().flatten(1).mean(1)
            metrics["val/psnr"] = psnr(output, y)
        for name, values in metrics.items():
            self.log(name, values.float().mean(), on_step=False, on_epoch=True,
                     prog_bar=name != "val/loss", batch_size=len(x), sync_dist=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        opt = self.config.optimiser
        return torch.optim.Adam(self.parameters(), lr=opt.lr, betas=opt.betas,
                                weight_decay=opt.weight_decay)

    def on_train_start(self) -> None:
        apply_configured_lr(self, self.config.optimiser.lr)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Mark the file as a dosewise checkpoint and record the latest validation metrics."""
        checkpoint[CHECKPOINT_KEY] = run_record(self, "train")
