"""Any input size in, same size out: pad to what the network needs, crop back afterwards."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pad_to_multiple(x: torch.Tensor, multiple: int, min_size: int = 1) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad the bottom/right of ``x`` so H, W are multiples of ``multiple`` and >= ``min_size``.

    Reflection keeps image statistics at the border; when the image is too small to reflect
    (padding >= side) edge replication is used. Returns the padded tensor and the original
    (H, W) for :func:`crop_to`.
    """
    height, width = x.shape[-2:]
    target_h = max(-(-height // multiple) * multiple, -(-min_size // multiple) * multiple)
    target_w = max(-(-width // multiple) * multiple, -(-min_size // multiple) * multiple)
    pad_h, pad_w = target_h - height, target_w - width
    if pad_h == 0 and pad_w == 0:
        return x, (height, width)
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode), (height, width)


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Undo :func:`pad_to_multiple`."""
    return x[..., : size[0], : size[1]]
