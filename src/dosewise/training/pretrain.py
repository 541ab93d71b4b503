"""Self-supervised pretraining of a generator on unlabeled micrographs (Kazimi et al. 2024 and the
Kazimi et al. abstract).

``gan``: Pix2Pix. The generator maps a corrupted crop to the clean one; a conditional
PatchGAN sees (input, output) pairs. Least-squares GAN losses (targets 1 real, 0 fake)
plus lambda * L1 for the generator, two Adam optimisers stepped alternately (manual
optimisation). ``dae``: the generator alone with an L1 reconstruction loss.

Both log ``val/l1`` (generator output vs clean crop, on held-out images with a fixed
corruption per image); the best checkpoint is the lowest, as Kazimi et al. 2024 selects.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from dosewise.data import EpochSampler
from dosewise.data.unlabeled import UnlabeledDataset, find_sources, hold_out, subset
from dosewise.models import build_model
from dosewise.models.discriminators import PatchDiscriminator
from dosewise.checkpoint import CHECKPOINT_KEY
from dosewise.training.module import run_record, seed_epoch
from dosewise.config.pretraining import PretrainConfig
from dosewise.training.train import TrainResult, fit

PRETRAIN_MONITOR = ("val/l1", "min")


class PretrainModule(pl.LightningModule):
    """Generator (``network``, the part fine-tuning reuses) and, for ``gan``, a discriminator."""

    def __init__(self, config: PretrainConfig | dict[str, Any]) -> None:
        super().__init__()
        if not isinstance(config, PretrainConfig):
            config = PretrainConfig.validate_dict(config)
        self.config = config
        self.save_hyperparameters(config.model_dump(mode="json"))
        self.network = build_model(config.model)
        self.is_gan = config.pretext == "gan"
        self.automatic_optimization = not self.is_gan
        if self.is_gan:
            self.discriminator = PatchDiscriminator(
                config.model.in_channels + config.model.out_channels,
                config.gan.discriminator_channels,
                config.gan.discriminator_layers,
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def on_train_epoch_start(self) -> None:
        seed_epoch(self, self.config.seed)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        if not self.is_gan:
            loss = F.l1_loss(self(x), y)
            self._log_train({"train/loss": loss, "train/l1": loss}, len(x))
            return loss
        opt_g, opt_d = self.optimizers()
        fake = self(x)
        losses = self.discriminator_step(x, y, fake, opt_d)
        losses.update(self.generator_step(x, y, fake, opt_g))
        self._log_train(losses, len(x))
        return losses["train/loss"]

    def discriminator_step(self, x: torch.Tensor, y: torch.Tensor, fake: torch.Tensor,
                           optimiser: Any) -> dict[str, torch.Tensor]:
        """LSGAN: push D(x, y) to 1 and D(x, G(x)) to 0; the generator is not updated."""
        real_score = self.discriminator(x, y)
        fake_score = self.discriminator(x, fake.detach())
        loss_d = 0.5 * (F.mse_loss(real_score, torch.ones_like(real_score))
                        + F.mse_loss(fake_score, torch.zeros_like(fake_score)))
        optimiser.zero_grad()
        self.manual_backward(loss_d)
        optimiser.step()
        return {"train/loss_d": loss_d.detach()}

    def generator_step(self, x: torch.Tensor, y: torch.Tensor, fake: torch.Tensor,
                       optimiser: Any) -> dict[str, torch.Tensor]:
        """LSGAN: push D(x, G(x)) to 1, plus lambda * L1(G(x), y) (Kazimi et al. 2024, eq. 3)."""
        score = self.discriminator(x, fake)
        loss_gan = F.mse_loss(score, torch.ones_like(score))
        loss_l1 = F.l1_loss(fake, y)
        loss_g = loss_gan + self.config.gan.lambda_l1 * loss_l1
        optimiser.zero_grad()
        self.manual_backward(loss_g)
        optimiser.step()
        return {"train/loss": loss_g.detach(), "train/loss_g_gan": loss_gan.detach(),
                "train/l1": loss_l1.detach()}

    def _log_train(self, values: dict[str, torch.Tensor], batch_size: int) -> None:
        for name, value in values.items():
            self.log(name, value, on_step=False, on_epoch=True, prog_bar=name in ("train/l1", "train/loss_d"),
                     batch_size=batch_size, sync_dist=True)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        l1 = (self(x) - y).abs().flatten(1).mean(1).mean()
        self.log("val/l1", l1, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(x), sync_dist=True)
        self.log("val/loss", l1, on_step=False, on_epoch=True, batch_size=len(x), sync_dist=True)

    def configure_optimizers(self) -> Any:
        opt = self.config.optimiser
        generator = torch.optim.Adam(self.network.parameters(), lr=opt.lr, betas=opt.betas,
                                     weight_decay=opt.weight_decay)
        if not self.is_gan:
            return generator
        discriminator = torch.optim.Adam(self.discriminator.parameters(), lr=opt.lr, betas=opt.betas,
                                         weight_decay=opt.weight_decay)
        return [generator, discriminator]

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = run_record(self, f"pretrain-{self.config.pretext}")


class UnlabeledDataModule(pl.LightningDataModule):
    """Training and held-out validation images of a :class:`PretrainConfig`."""

    def __init__(self, config: PretrainConfig) -> None:
        super().__init__()
        self.config = config
        data = config.data
        sources = subset(find_sources(data.folders, data.stores, store_key=data.store_key),
                         data.max_images, config.seed)
        train_sources, val_sources = hold_out(
            sources, data.val_fraction, "pretraining needs at least 2 unlabeled images (1 for validation)")
        common = {"crop_px": data.crop_px, "corruption": config.corruption,
                  "small_images": data.small_images, "normalisation": data.normalisation,
                  "seed": config.seed}
        self.train_set = UnlabeledDataset(train_sources, train=True, **common)
        self.val_set = UnlabeledDataset(val_sources, train=False, **common)

    def train_dataloader(self) -> DataLoader:
        epoch = self.trainer.fit_loop.epoch_progress.current.processed if self.trainer else 0
        sampler = EpochSampler(len(self.train_set), seed=self.config.seed, epoch=epoch)
        return self._loader(self.train_set, sampler, self.config.batch_size)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, EpochSampler(len(self.val_set), shuffle=False),
                            self.config.batch_size)

    def _loader(self, dataset: UnlabeledDataset, sampler: EpochSampler, batch_size: int) -> DataLoader:
        workers = self.config.num_workers
        return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                          persistent_workers=workers > 0, drop_last=False)


def pretrain(config: PretrainConfig, *, resume: bool = True, progress: bool = True) -> TrainResult:
    """Run the pretext task; ``best.ckpt`` (lowest val/l1) is what fine-tuning starts from."""
    return fit(config, lambda: (PretrainModule(config), UnlabeledDataModule(config)), PRETRAIN_MONITOR,
               resume=resume, progress=progress, identity_fields=("pretext", "model"))
