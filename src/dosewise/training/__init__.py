"""Training with Lightning: supervised recipes, self-supervised pretraining, fine-tuning by
weight transfer, denoising and supersampling, all on one resumable spine (:func:`fit`).

Recipes live in :mod:`dosewise.config`, the checkpoint format in :mod:`dosewise.checkpoint`.
"""

from dosewise.training.datamodule import PairDataModule, make_dataset, split_for
from dosewise.training.losses import make_loss
from dosewise.training.module import ImageToImageModule, monitored_metric
from dosewise.training.pretrain import PretrainModule, UnlabeledDataModule, pretrain
from dosewise.training.supersample import train_supersampler
from dosewise.training.train import TrainResult, fit, train
from dosewise.training.transfer import TransferReport, transfer_weights

__all__ = [
    "ImageToImageModule",
    "PairDataModule",
    "PretrainModule",
    "TrainResult",
    "TransferReport",
    "UnlabeledDataModule",
    "fit",
    "make_dataset",
    "make_loss",
    "monitored_metric",
    "pretrain",
    "split_for",
    "train",
    "train_supersampler",
    "transfer_weights",
]
