"""Training a partial-scan supersampler (``dosewise train supersample``; Ede 2020, §II).

The learning policy of Ede 2020, on the shared Lightning spine:

- each example's MSE against the blurred full scan is multiplied by
  ``lambda_mse`` and divided by p(c) (eq. 1-2), or by p(c) tracked per coverage by a
  moving average (``loss_normaliser: ema``), so sparse scans with large errors do not
  dominate a unified generator;
- output pixels at measured positions take the target's value before the loss, so
  only the filled-in pixels count;
- ALRC clips outlier losses per example (mu1 25, mu2 30, beta 0.999, n 3);
- the two-stage generator's auxiliary trainer is trained on the half-size blurred
  target (eq. 7), with its own ALRC;
- an experience replay keeps examples whose loss is in the top 20 % and, with
  probability 0.2 per step, puts one back into the batch.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from dosewise.data import EpochSampler
from dosewise.data.partial_scans import PartialScanDataset
from dosewise.data.unlabeled import find_sources, hold_out, subset
from dosewise.checkpoint import CHECKPOINT_KEY
from dosewise.config.supersampling import ReplayConfig, SupersampleConfig
from dosewise.models.dlss import TwoStageGenerator, build_supersampler
from dosewise.physics.partial_scan import loss_normaliser_p
from dosewise.training.alrc import ALRC
from dosewise.training.module import apply_configured_lr, run_record, seed_epoch
from dosewise.training.train import TrainResult, fit

SUPERSAMPLE_MONITOR = ("val/mse", "min")


class CoverageNormaliser(nn.Module):
    """p(c) per example: Ede 2020, eq. 2, a per-step moving average of the MSE, or 1.

    One average per distinct step (a step listed twice in ``data.steps`` is drawn twice as
    often, not normalised twice). The averages are running statistics, not weights: a
    checkpoint trained on another step list resumes with them restarted."""

    def __init__(self, kind: str, steps: list[int], beta: float = 0.99) -> None:
        super().__init__()
        self.kind, self.beta = kind, beta
        self.steps = sorted({int(s) for s in steps})
        initial = loss_normaliser_p(1.0 / np.asarray(self.steps, np.float64) ** 2)
        self.register_buffer("mse_ema", torch.tensor(initial, dtype=torch.float64))

    def forward(self, step: torch.Tensor, mse: torch.Tensor) -> torch.Tensor:
        if self.kind == "none":
            return torch.ones_like(mse)
        if self.kind == "paper":
            coverage = 1.0 / step.detach().cpu().double() ** 2
            return torch.as_tensor(loss_normaliser_p(coverage.numpy()), dtype=mse.dtype, device=mse.device)
        index = torch.tensor([self.steps.index(int(s)) for s in step], device=self.mse_ema.device)
        if self.training:
            for i, value in zip(index, mse.detach().double()):
                self.mse_ema[i] = self.beta * self.mse_ema[i] + (1 - self.beta) * value
        p = self.mse_ema[index] / self.mse_ema.mean()
        return p.to(mse.dtype).to(mse.device)

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any) -> None:
        saved = state_dict.get(prefix + "mse_ema")
        if saved is not None and saved.shape != self.mse_ema.shape:
            state_dict[prefix + "mse_ema"] = self.mse_ema.clone()  # another step list: restart the averages
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class ReplayBuffer:
    """The hardest recent examples (CPU tensors), put back into batches now and then.

    Not saved in checkpoints: a resumed run starts with an empty buffer.
    """

    def __init__(self, config: ReplayConfig, history: int = 512) -> None:
        self.config = config
        self.items: deque[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = deque(maxlen=config.capacity)
        self.losses: deque[float] = deque(maxlen=history)

    def mix(self, batch: list[torch.Tensor], rng: np.random.Generator) -> list[torch.Tensor]:
        """With probability ``probability``, one batch element is replaced by a stored example."""
        if not self.items or rng.random() >= self.config.probability:
            return batch
        x, target, step = (t.clone() for t in batch)
        slot = int(rng.integers(len(x)))
        index = int(rng.integers(len(self.items)))
        stored = self.items[index]
        del self.items[index]
        x[slot], target[slot], step[slot] = (t.to(x.device) for t in stored)
        return [x, target, step]

    def offer(self, batch: list[torch.Tensor], losses: torch.Tensor) -> None:
        """Keep every example whose loss is in the top ``top_fraction`` of recent losses."""
        values = losses.detach().float().cpu().tolist()
        self.losses.extend(values)
        if len(self.losses) < 32:
            return
        threshold = float(np.quantile(np.asarray(self.losses), 1.0 - self.config.top_fraction))
        for i, value in enumerate(values):
            if value >= threshold:
                self.items.append(tuple(t[i].detach().cpu() for t in batch))  # type: ignore[arg-type]


class SupersampleModule(pl.LightningModule):
    """Generator + Ede 2020's learning policy; ``network`` is all inference needs."""

    def __init__(self, config: SupersampleConfig | dict[str, Any]) -> None:
        super().__init__()
        if not isinstance(config, SupersampleConfig):
            config = SupersampleConfig.validate_dict(config)
        self.config = config
        self.save_hyperparameters(config.model_dump(mode="json"))
        self.network = build_supersampler(config.model)
        self.normaliser = CoverageNormaliser(config.loss_normaliser, config.data.steps)
        self.alrc_main = ALRC()
        self.alrc_aux = ALRC()
        self.replay = ReplayBuffer(config.replay)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def on_train_epoch_start(self) -> None:
        seed_epoch(self, self.config.seed)

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        rng = np.random.default_rng(np.random.SeedSequence(
            self.config.seed, spawn_key=(self.current_epoch, batch_idx, self.global_rank)))
        batch = self.replay.mix(list(batch), rng)
        x, target, step = batch
        mask = x[:, 1:2]
        if isinstance(self.network, TwoStageGenerator):
            output, aux = self.network.forward_with_aux(x)
        else:
            output, aux = self.network(x), None
        # measured pixels carry no information to learn: give them the target's value
        output = torch.where(mask > 0.5, target, output)
        mse = ((output - target) ** 2).flatten(1).mean(1)
        p = self.normaliser(step, mse)
        main = self._clip(self.alrc_main, self.config.lambda_mse * mse / p)
        loss = main
        values = {"train/mse": mse.mean()}
        if aux is not None and self.config.lambda_aux > 0:
            half = F.interpolate(target, size=aux.shape[-2:], mode="bilinear", align_corners=False,
                                 antialias=True)
            aux_mse = ((aux - half) ** 2).flatten(1).mean(1)
            loss = loss + self._clip(self.alrc_aux, self.config.lambda_aux * aux_mse / p)
            values["train/aux_mse"] = aux_mse.mean()
        self.replay.offer(batch, main)
        values["train/loss"] = loss.mean()
        for name, value in values.items():
            self.log(name, value.detach(), on_step=False, on_epoch=True, prog_bar=name == "train/mse",
                     batch_size=len(x), sync_dist=True)
        return loss.mean()

    def _clip(self, alrc: ALRC, losses: torch.Tensor) -> torch.Tensor:
        return alrc(losses) if self.config.alrc else losses

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        x, target, step = batch
        mse = ((self(x) - target) ** 2).flatten(1).mean(1)
        self.log("val/mse", mse.mean(), on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=len(x), sync_dist=True)
        self.log("val/loss", mse.mean(), on_step=False, on_epoch=True, batch_size=len(x), sync_dist=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        opt = self.config.optimiser
        return torch.optim.Adam(self.network.parameters(), lr=opt.lr, betas=opt.betas,
                                weight_decay=opt.weight_decay)

    def on_train_start(self) -> None:
        apply_configured_lr(self, self.config.optimiser.lr)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = run_record(self, "supersample")


class PartialScanDataModule(pl.LightningDataModule):
    """Training and held-out full scans of a :class:`SupersampleConfig` (every k-th held out)."""

    def __init__(self, config: SupersampleConfig) -> None:
        super().__init__()
        self.config = config
        data = config.data
        sources = subset(find_sources(data.folders, data.stores, store_key=data.store_key),
                         data.max_images, config.seed)
        train_sources, val_sources = hold_out(
            sources, data.val_fraction, "supersampling needs at least 2 full scans (1 for validation)")
        train_sources = [s for s in train_sources for _ in range(data.folder_repeats if s.sample_id is None else 1)]
        common = {"crop_px": data.crop_px, "steps": data.steps, "small_images": data.small_images,
                  "target_blur_sigma_px": data.target_blur_sigma_px, "seed": config.seed}
        self.train_set = PartialScanDataset(train_sources, train=True, degradations=data.degradations, **common)
        self.val_set = PartialScanDataset(val_sources, train=False, **common)

    def train_dataloader(self) -> DataLoader:
        epoch = self.trainer.fit_loop.epoch_progress.current.processed if self.trainer else 0
        sampler = EpochSampler(len(self.train_set), seed=self.config.seed, epoch=epoch)
        return self._loader(self.train_set, sampler)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, EpochSampler(len(self.val_set), shuffle=False))

    def _loader(self, dataset: PartialScanDataset, sampler: EpochSampler) -> DataLoader:
        workers = self.config.num_workers
        return DataLoader(dataset, batch_size=self.config.batch_size, sampler=sampler, num_workers=workers,
                          persistent_workers=workers > 0, drop_last=False)


def train_supersampler(config: SupersampleConfig, *, resume: bool = True, progress: bool = True) -> TrainResult:
    """Train; ``best.ckpt`` (lowest validation MSE) is what ``dosewise supersample`` uses."""
    return fit(config, lambda: (SupersampleModule(config), PartialScanDataModule(config)), SUPERSAMPLE_MONITOR,
               resume=resume, progress=progress, identity_fields=("model",))
