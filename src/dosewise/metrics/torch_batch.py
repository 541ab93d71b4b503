"""Per-image validation metrics on batches (N, C, H, W), as tensors of shape (N,)."""

from __future__ import annotations

import torch


def dice_iou(prediction: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Dice (F1) and IoU of boolean masks per image; both are 1 when both masks are empty."""
    prediction = prediction.flatten(1).float()
    target = target.flatten(1).float()
    overlap = (prediction * target).sum(1)
    total = prediction.sum(1) + target.sum(1)
    union = total - overlap
    empty = total == 0
    dice = torch.where(empty, torch.ones_like(total), 2 * overlap / total.clamp(min=1))
    iou = torch.where(empty, torch.ones_like(total), overlap / union.clamp(min=1))
    return dice, iou


def psnr(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image, the peak being the target's value range."""
    prediction = prediction.flatten(1).float()
    target = target.flatten(1).float()
    mse = ((prediction - target) ** 2).mean(1).clamp(min=1e-12)
    peak = (target.amax(1) - target.amin(1)).clamp(min=1e-6)
    return 10 * torch.log10(peak**2 / mse)
