"""Run a training recipe with Lightning: checkpoints, logs, curves, resume.

Layout of ``out_dir``::

    config.yaml                 the resolved config of the latest run
    checkpoints/epoch005.ckpt   every ``checkpoint_every_n_epochs`` epochs (all kept)
    checkpoints/best.ckpt       best validation metric (val/dice or val/l1)
    checkpoints/best_epoch005.ckpt  copy of best.ckpt every N epochs: the best-so-far model
    checkpoints/last.ckpt       end of the latest epoch; a new run resumes from it
    metrics.csv                 per-epoch train/val loss and metrics, all runs merged
    logs/version_N/             Lightning's CSV log of each run (N increases per resume)
    tensorboard/version_N/      the same for TensorBoard
    curves.png                  loss and metric against epoch
"""

from __future__ import annotations

import csv
import logging
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback, Checkpoint, ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from dosewise.checkpoint import read_checkpoint
from dosewise.config.training import RunSettings, TrainConfig
from dosewise.device import resolve_device
from dosewise.errors import InputFileError, InvalidParameterError
from dosewise.io import atomic_write
from dosewise.report.curves import training_curves_figure
from dosewise.report.style import save_png
from dosewise.training.datamodule import PairDataModule
from dosewise.training.module import ImageToImageModule, monitored_metric


def _quiet_lightning() -> None:
    """Keep the console to our progress bar: no hardware banner, tips or upstream deprecations."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*is deprecated")
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r".*Checkpoint directory .* exists and is not empty.*")


@dataclass(frozen=True)
class TrainResult:
    """Where a run left its files, and its final metrics."""

    out_dir: Path
    config_path: Path
    best_checkpoint: Path | None
    last_checkpoint: Path
    periodic_checkpoints: list[Path]
    metrics_csv: Path
    curves_png: Path
    metrics: dict[str, float]


def train(config: TrainConfig, *, resume: bool = True, progress: bool = True) -> TrainResult:
    """Train ``config``; resume from ``out_dir/checkpoints/last.ckpt`` when it exists.

    With the same config and seed, a run interrupted and resumed on CPU ends with
    exactly the weights of an uninterrupted one. With ``config.init`` the network starts
    from a pretrained checkpoint; what was transferred is written to ``transfer.json``.
    """
    def build() -> tuple[pl.LightningModule, pl.LightningDataModule]:
        module = ImageToImageModule(config)
        if module.transfer_report is not None:
            module.transfer_report.write_json(Path(config.out_dir) / "transfer.json")
        return module, PairDataModule(config)

    return fit(config, build, monitored_metric(config.task), resume=resume, progress=progress,
               identity_fields=("task", "model"))


def fit(
    settings: RunSettings,
    build: Callable[[], tuple[pl.LightningModule, pl.LightningDataModule]],
    monitor: tuple[str, str],
    *,
    resume: bool,
    progress: bool,
    identity_fields: tuple[str, ...],
) -> TrainResult:
    """The Lightning run every recipe shares: seeding, hardware, checkpoints, logs, curves.

    ``build`` makes the module and data after seeding, so random initialisation depends on
    the seed only; ``identity_fields`` must match for ``last.ckpt`` to be resumed from.
    """
    out_dir = Path(settings.out_dir)
    ckpt_dir = out_dir / "checkpoints"
    out_dir.mkdir(parents=True, exist_ok=True)
    last = ckpt_dir / "last.ckpt"
    resume_from = last if resume and last.is_file() else None
    if resume_from is not None:
        _check_resumable(resume_from, settings, identity_fields)
    config_path = settings.to_yaml(out_dir / "config.yaml")

    _quiet_lightning()
    pl.seed_everything(settings.seed, workers=True, verbose=False)
    module, datamodule = build()
    trainer = pl.Trainer(
        **_hardware(settings),
        max_epochs=settings.epochs,
        max_time=timedelta(minutes=settings.max_minutes) if settings.max_minutes else None,
        callbacks=_callbacks(settings, monitor, ckpt_dir, progress),
        logger=[CSVLogger(out_dir, name="logs"), TensorBoardLogger(out_dir, name="tensorboard")],
        enable_progress_bar=progress,
        enable_model_summary=False,
        log_every_n_steps=1,
    )
    trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from)

    metrics_csv, curves_png = out_dir / "metrics.csv", out_dir / "curves.png"
    if trainer.is_global_zero:
        curves = collect_curves(out_dir / "logs")
        write_curves_csv(curves, metrics_csv)
        save_png(curves_png, training_curves_figure(curves, monitor[0]))
    best = ckpt_dir / "best.ckpt"
    return TrainResult(
        out_dir=out_dir,
        config_path=config_path,
        best_checkpoint=best if best.is_file() else None,
        last_checkpoint=last,
        periodic_checkpoints=sorted(ckpt_dir.glob("epoch*.ckpt")),
        metrics_csv=metrics_csv,
        curves_png=curves_png,
        metrics={k: float(v) for k, v in trainer.callback_metrics.items()},
    )


def _hardware(config: RunSettings) -> dict[str, object]:
    """Accelerator from ``device`` ("auto" -> GPU when there is one); deterministic on CPU."""
    device = resolve_device(config.device)
    on_gpu = device.type == "cuda"
    devices = config.devices
    if on_gpu and device.index is not None and devices == "auto":
        devices = [device.index]
    return {
        "accelerator": "gpu" if on_gpu else device.type,
        "devices": devices,
        "num_nodes": config.num_nodes,
        "strategy": config.strategy,
        "precision": config.precision,
        "deterministic": not on_gpu,
    }


def _callbacks(
    config: RunSettings, monitor: tuple[str, str], ckpt_dir: Path, progress: bool
) -> list[Callback]:
    metric, mode = monitor
    callbacks: list[Callback] = [
        PeriodicCheckpoint(dirpath=ckpt_dir, filename="epoch{epochs_done:03d}", enable_version_counter=False,
                           auto_insert_metric_name=False,
                           every_n_epochs=config.checkpoint_every_n_epochs, save_top_k=-1),
        ModelCheckpoint(dirpath=ckpt_dir, filename="best", monitor=metric, mode=mode, save_top_k=1,
                        enable_version_counter=False),
        BestSoFarSnapshot(ckpt_dir, every_n_epochs=config.checkpoint_every_n_epochs),
        # Lightning's save_last only follows saves of its own callback; this one saves every epoch.
        ModelCheckpoint(dirpath=ckpt_dir, filename="last", every_n_epochs=1, save_top_k=1,
                        enable_version_counter=False),
    ]
    if progress:
        callbacks.append(RichProgressBar())
    return callbacks


class PeriodicCheckpoint(ModelCheckpoint):
    """Keeps every N-th epoch, named by epochs completed (``epoch005.ckpt`` after 5 epochs),
    as the papers count them; Lightning's ``{epoch}`` is 0-based."""

    def format_checkpoint_name(self, metrics: dict[str, torch.Tensor], *args: object,
                               **kwargs: object) -> str:
        done = {"epochs_done": metrics["epoch"] + 1} if "epoch" in metrics else {}
        return super().format_checkpoint_name({**metrics, **done}, *args, **kwargs)


class BestSoFarSnapshot(Checkpoint):
    """Copies ``best.ckpt`` to ``best_epoch005.ckpt`` every N epochs: the best-so-far model
    at each checkpoint epoch, which Kazimi et al. 2024's Tables 2-7 evaluate on the test set.

    A :class:`Checkpoint` subclass, so Lightning runs it after the best-checkpoint callback
    listed before it; that one saves at the end of the training epoch (after validation,
    when validation runs once per epoch), and so does this.
    """

    def __init__(self, ckpt_dir: Path, every_n_epochs: int) -> None:
        self.ckpt_dir = ckpt_dir
        self.every_n_epochs = every_n_epochs

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        done = trainer.current_epoch + 1
        best = self.ckpt_dir / "best.ckpt"
        if trainer.sanity_checking or done % self.every_n_epochs or not best.is_file():
            return
        if trainer.is_global_zero:
            target = self.ckpt_dir / f"best_epoch{done:03d}.ckpt"
            with atomic_write(target) as tmp:
                shutil.copyfile(best, tmp)


def _check_resumable(path: Path, config: RunSettings, fields: tuple[str, ...]) -> None:
    """Refuse to resume a run whose network or task differ from ``config`` (the weights
    would not fit, or would mean something else)."""
    try:
        saved = read_checkpoint(path)["hyper_parameters"]
    except Exception as exc:  # an unreadable last.ckpt cannot be resumed from
        raise InputFileError(
            "cannot resume from this checkpoint; delete it or pass resume=False", path
        ) from exc
    current = config.model_dump(mode="json")
    for field in fields:
        if saved.get(field) != current[field]:
            raise InvalidParameterError(
                f"cannot resume: the checkpoint was trained with a different {field} "
                f"({saved.get(field)!r}); use a new out_dir or resume=False",
                path,
            )


def collect_curves(log_root: Path) -> dict[str, dict[int, float]]:
    """``{metric: {epoch: value}}`` from every run's Lightning CSV log under ``log_root``
    (``version_0``, ``version_1``, ... one per resume); later runs win for an epoch."""
    curves: dict[str, dict[int, float]] = {}
    versions = sorted(log_root.glob("version_*/metrics.csv"), key=lambda p: int(p.parent.name[8:]))
    for path in versions:
        with open(path, newline="", encoding="utf-8") as file:
            for row in csv.DictReader(file):
                epoch = int(float(row["epoch"]))
                for name, value in row.items():
                    if name not in ("epoch", "step") and value:
                        curves.setdefault(name, {})[epoch] = float(value)
    return curves


def write_curves_csv(curves: dict[str, dict[int, float]], out: Path) -> Path:
    """One row per epoch (1-based) and one column per metric."""
    names = sorted(curves)
    epochs = sorted({e for values in curves.values() for e in values})
    with atomic_write(out) as tmp, open(tmp, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", *names])
        for epoch in epochs:
            writer.writerow([epoch + 1, *(curves[n].get(epoch, "") for n in names)])
    return out
