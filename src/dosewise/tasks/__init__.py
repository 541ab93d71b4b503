"""Training tasks: supervised recipes (TrainConfig), self-supervised pretraining
(PretrainConfig), fine-tuning by weight transfer, and loading any checkpoint."""

from dosewise.tasks.checkpoint import LoadedModel, load_model
from dosewise.tasks.config import DataConfig, OptimiserConfig, RunSettings, TrainConfig
from dosewise.tasks.datamodule import PairDataModule, make_dataset, split_for
from dosewise.tasks.losses import make_loss
from dosewise.tasks.module import ImageToImageModule, monitored_metric
from dosewise.tasks.pretrain import PretrainModule, UnlabeledDataModule, pretrain
from dosewise.tasks.pretrain_config import GanConfig, PretrainConfig, UnlabeledDataConfig
from dosewise.tasks.train import TrainResult, train
from dosewise.tasks.transfer import TransferReport, transfer_weights

__all__ = [
    "DataConfig",
    "GanConfig",
    "ImageToImageModule",
    "LoadedModel",
    "OptimiserConfig",
    "PairDataModule",
    "PretrainConfig",
    "PretrainModule",
    "RunSettings",
    "TrainConfig",
    "TrainResult",
    "TransferReport",
    "UnlabeledDataConfig",
    "UnlabeledDataModule",
    "load_model",
    "make_dataset",
    "make_loss",
    "monitored_metric",
    "pretrain",
    "split_for",
    "train",
    "transfer_weights",
]
