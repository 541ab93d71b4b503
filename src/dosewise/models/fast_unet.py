"""A small, fast U-Net for live denoising (issue 5's shipped model).

Katsuno et al. 2022's ResNet18-U-Net spends most of its time on full-resolution feature maps. Here
the image is first folded into 4 channels at half resolution (pixel unshuffle, lossless),
processed by a small U-Net of plain 3x3 convolutions (no batch norm, so nothing to
fold at export and nothing batch-dependent), and unfolded back (pixel shuffle). About
10x fewer multiply-adds per pixel than the ResNet18-U-Net; ONNX-exportable as it is.
"""

from __future__ import annotations

import pydantic
import torch
from torch import nn

from dosewise.models.config import ArchitectureOptions
from dosewise.models.padding import crop_to, pad_to_multiple
from dosewise.models.receptive_field import Conv, Layer, Up, path_receptive_field


class FastUNetOptions(ArchitectureOptions):
    """``width * 2**level`` channels at level ``level`` (0 = half resolution), ``levels``
    resolutions below the input."""

    width: int = pydantic.Field(16, ge=4)
    levels: int = pydantic.Field(3, ge=1, le=5)
    convs_per_level: int = pydantic.Field(2, ge=1)


def _convs(in_ch: int, out_ch: int, n: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(n):
        layers += [nn.Conv2d(in_ch if i == 0 else out_ch, out_ch, 3, padding=1), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class FastUNet(nn.Module):
    """Pixel-unshuffle -> U-Net with strided-conv downsampling -> pixel-shuffle; any input size."""

    def __init__(self, in_channels: int, out_channels: int, options: FastUNetOptions) -> None:
        super().__init__()
        n, levels = options.convs_per_level, options.levels
        widths = [options.width * 2**level for level in range(levels)]
        self.levels = levels
        self.fold = nn.PixelUnshuffle(2)
        self.encoder = nn.ModuleList(
            _convs(4 * in_channels if level == 0 else widths[level], widths[level], n) for level in range(levels)
        )
        self.down = nn.ModuleList(nn.Conv2d(widths[level], widths[level + 1], 2, stride=2) for level in range(levels - 1))
        self.up = nn.ModuleList(nn.ConvTranspose2d(widths[level + 1], widths[level], 2, stride=2)
                                for level in range(levels - 1))
        self.decoder = nn.ModuleList(_convs(2 * widths[level], widths[level], n) for level in range(levels - 1))
        self.head = nn.Conv2d(widths[0], 4 * out_channels, 1)
        self.unfold = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, size = pad_to_multiple(x, 2**self.levels)
        x = self.fold(x)
        skips = []
        for level, block in enumerate(self.encoder):
            x = block(x if level == 0 else self.down[level - 1](x))
            skips.append(x)
        x = skips.pop()
        for level in reversed(range(self.levels - 1)):
            x = self.decoder[level](torch.cat([self.up[level](x), skips[level]], dim=1))
        return crop_to(self.unfold(self.head(x)), size)


def fast_unet_path(options: FastUNetOptions) -> list[Layer]:
    """Unshuffle (a 2x2 stride-2 window), the U-Net's longest path, head, shuffle."""
    n, levels = options.convs_per_level, options.levels
    path: list[Layer] = [Conv(2, stride=2)]
    for _ in range(levels - 1):
        path += [Conv(3)] * n + [Conv(2, stride=2)]
    path += [Conv(3)] * n
    for _ in range(levels - 1):
        path += [Up(2)] + [Conv(3)] * n
    return path + [Conv(1), Up(2)]


def fast_unet_receptive_field(options: FastUNetOptions) -> int:
    return path_receptive_field(fast_unet_path(options))
