"""Training tasks: the recipe (TrainConfig), one LightningModule, train(), load_model()."""

from dosewise.tasks.checkpoint import LoadedModel, load_model
from dosewise.tasks.config import DataConfig, OptimiserConfig, TrainConfig
from dosewise.tasks.datamodule import PairDataModule, make_dataset, split_for
from dosewise.tasks.losses import make_loss
from dosewise.tasks.module import ImageToImageModule, monitored_metric
from dosewise.tasks.train import TrainResult, train

__all__ = [
    "DataConfig",
    "ImageToImageModule",
    "LoadedModel",
    "OptimiserConfig",
    "PairDataModule",
    "TrainConfig",
    "TrainResult",
    "load_model",
    "make_dataset",
    "make_loss",
    "monitored_metric",
    "split_for",
    "train",
]
