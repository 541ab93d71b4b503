"""Training losses by name: BCE (+ Dice) on logits for masks, L1/L2 for images.

Kazimi et al. 2024 trains segmentation with BCE and restoration with L1 + L2;
Katsuno et al. 2022 uses L1.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from dosewise.errors import InvalidParameterError


class BCEDiceLoss(nn.Module):
    """BCE with logits plus (1 - soft Dice) per image, averaged: Dice counters the
    imbalance of small particles on a large background that plain BCE ignores."""

    def __init__(self, smooth: float = 1.0) -> None:
        super().__init__()
        self.smooth = smooth

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        bce = F.binary_cross_entropy_with_logits(logits, target)
        probs = torch.sigmoid(logits).flatten(1)
        target = target.flatten(1)
        overlap = (probs * target).sum(1)
        dice = (2 * overlap + self.smooth) / (probs.sum(1) + target.sum(1) + self.smooth)
        return bce + (1 - dice).mean()


class L1L2Loss(nn.Module):
    """Sum of mean absolute and mean squared error."""

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(prediction, target) + F.mse_loss(prediction, target)


_LOSSES: dict[str, type[nn.Module]] = {
    "bce": nn.BCEWithLogitsLoss,
    "bce_dice": BCEDiceLoss,
    "l1": nn.L1Loss,
    "l2": nn.MSELoss,
    "l1_l2": L1L2Loss,
}


def make_loss(name: str) -> nn.Module:
    """The loss module called ``name`` (``bce``, ``bce_dice``, ``l1``, ``l2``, ``l1_l2``)."""
    if name not in _LOSSES:
        raise InvalidParameterError(f"unknown loss {name!r}; choose one of {', '.join(_LOSSES)}")
    return _LOSSES[name]()
