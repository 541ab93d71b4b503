"""The U-Net of Madsen et al. as used in Larsen et al. 2023 (appendix A.1).

Blocks of five 5x5 convolutions, each followed by PReLU, with a short additive skip from the
output of the first convolution to the input of the fifth; max-pool down (channels x2),
bilinear up (channels /2) and concatenated long skips.

``norm="batch"`` puts a BatchNorm between each convolution and its PReLU: without it the paper's
Adam learning rate of 1e-3 diverges on our data and 1e-4 learns slowly on a CPU budget.
"""

from __future__ import annotations

from typing import Literal

import pydantic
import torch
import torch.nn.functional as F
from torch import nn

from dosewise.models.config import ArchitectureOptions
from dosewise.models.padding import crop_to, pad_to_multiple
from dosewise.models.receptive_field import Conv, Layer, Up, path_receptive_field

CONVS_PER_BLOCK = 5


class MadsenUNetOptions(ArchitectureOptions):
    depth: int = pydantic.Field(3, ge=1, description="number of max-pool levels")
    base_width: int = pydantic.Field(16, ge=1)
    kernel_size: int = pydantic.Field(5, ge=1)
    norm: Literal["none", "batch"] = pydantic.Field("none", description="normalisation after each convolution")

    @pydantic.field_validator("kernel_size")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError("kernel_size must be odd")
        return value


class FiveConvBlock(nn.Module):
    """conv1 -> conv2 -> conv3 -> conv4, + conv1's output -> conv5; PReLU after each conv."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, norm: str = "none") -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(in_ch if i == 0 else out_ch, out_ch, kernel, padding=kernel // 2, bias=norm == "none")
            for i in range(CONVS_PER_BLOCK)
        )
        self.norms = nn.ModuleList(
            nn.BatchNorm2d(out_ch) if norm == "batch" else nn.Identity() for _ in range(CONVS_PER_BLOCK)
        )
        self.acts = nn.ModuleList(nn.PReLU(out_ch) for _ in range(CONVS_PER_BLOCK))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = x = self.acts[0](self.norms[0](self.convs[0](x)))
        for conv, norm, act in zip(self.convs[1:-1], self.norms[1:-1], self.acts[1:-1]):
            x = act(norm(conv(x)))
        return self.acts[-1](self.norms[-1](self.convs[-1](x + first)))


class MadsenUNet(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, options: MadsenUNetOptions) -> None:
        super().__init__()
        o = options
        self.depth = o.depth
        widths = [o.base_width * 2**level for level in range(o.depth + 1)]
        self.encoder = nn.ModuleList(
            FiveConvBlock(in_channels if level == 0 else widths[level - 1], widths[level], o.kernel_size, o.norm)
            for level in range(o.depth + 1)
        )
        # After upsampling level l+1 (widths[l+1] channels) it is concatenated with level l.
        self.decoder = nn.ModuleList(
            FiveConvBlock(widths[level + 1] + widths[level], widths[level], o.kernel_size, o.norm)
            for level in range(o.depth)
        )
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, size = pad_to_multiple(x, 2**self.depth)
        skips = []
        for level, block in enumerate(self.encoder):
            x = block(x if level == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        x = skips.pop()
        for level in reversed(range(self.depth)):
            up = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
            x = self.decoder[level](torch.cat([up, skips[level]], dim=1))
        return crop_to(self.head(x), size)


def madsen_unet_path(options: MadsenUNetOptions) -> list[Layer]:
    """Longest path; bilinear x2 reads 2 coarse pixels (taps=2)."""
    block = [Conv(options.kernel_size)] * CONVS_PER_BLOCK
    path: list[Layer] = []
    for _ in range(options.depth):
        path += block + [Conv(2, stride=2)]
    path += block
    for _ in range(options.depth):
        path += [Up(2, taps=2)] + block
    return path


def madsen_unet_receptive_field(options: MadsenUNetOptions) -> int:
    return path_receptive_field(madsen_unet_path(options))
