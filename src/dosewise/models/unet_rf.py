"""U-Net_B_RF (Sytwu et al. 2022; used by Kazimi et al. 2024): residual U-Net whose receptive
field is a setting.

B max-pool levels; every level (and the bottleneck) holds one residual block of
``convs_per_block`` convolutions with that level's kernel size, mirrored in the decoder.
Upsampling is a transposed convolution with kernel = stride = 2, so it adds nothing to the
receptive field and the presets compute exactly to their names (see docs/models.md).
"""

from __future__ import annotations

import pydantic
import torch
from torch import nn

from dosewise.models.config import ArchitectureOptions
from dosewise.models.padding import crop_to, pad_to_multiple
from dosewise.models.receptive_field import Conv, Layer, Up, path_receptive_field

# Per-level kernel sizes (level 0 = full resolution ... level B = bottleneck) of the nine
# presets: 3 everywhere; 5 on the deepest three levels; 7 on the deepest two (B = 4: on the
# bottleneck only) with 5 above them. docs/models.md explains why no single rule hits all nine.
PRESET_KERNELS: dict[str, tuple[int, ...]] = {
    "unet-2-44": (3, 3, 3),
    "unet-2-84": (5, 5, 5),
    "unet-2-116": (5, 7, 7),
    "unet-3-96": (3, 3, 3, 3),
    "unet-3-176": (3, 5, 5, 5),
    "unet-3-240": (3, 5, 7, 7),
    "unet-4-200": (3, 3, 3, 3, 3),
    "unet-4-360": (3, 3, 5, 5, 5),
    "unet-4-424": (3, 3, 5, 5, 7),
}


class UNetRFOptions(ArchitectureOptions):
    """``kernel_sizes[l]`` is the kernel of level l; its length sets B = len - 1."""

    kernel_sizes: tuple[int, ...]
    convs_per_block: int = pydantic.Field(2, ge=1)
    base_width: int = pydantic.Field(16, ge=1)
    max_width: int = pydantic.Field(256, ge=1)

    @pydantic.field_validator("kernel_sizes")
    @classmethod
    def _odd_and_deep_enough(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(value) < 2:
            raise ValueError("need at least 2 levels (B >= 1)")
        if any(k < 1 or k % 2 == 0 for k in value):
            raise ValueError(f"kernel sizes must be odd and positive, got {list(value)}")
        return value

    @property
    def depth(self) -> int:
        """B, the number of max-pool levels."""
        return len(self.kernel_sizes) - 1

    def width(self, level: int) -> int:
        return min(self.base_width * 2**level, self.max_width)


class ResidualBlock(nn.Module):
    """``n`` conv-BN(-ReLU) layers plus an identity (or 1x1 projection) shortcut."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, n: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(n):
            layers += [
                nn.Conv2d(in_ch if i == 0 else out_ch, out_ch, kernel, padding=kernel // 2, bias=False),
                nn.BatchNorm2d(out_ch),
            ]
            if i < n - 1:
                layers.append(nn.ReLU(inplace=True))
        self.body = nn.Sequential(*layers)
        self.shortcut = nn.Identity() if in_ch == out_ch else nn.Conv2d(in_ch, out_ch, 1, bias=False)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class UNetRF(nn.Module):
    """Residual U-Net with per-level kernel sizes; raw logits out, any input size."""

    def __init__(self, in_channels: int, out_channels: int, options: UNetRFOptions) -> None:
        super().__init__()
        o = options
        self.depth = o.depth
        widths = [o.width(level) for level in range(o.depth + 1)]
        self.encoder = nn.ModuleList(
            ResidualBlock(in_channels if level == 0 else widths[level - 1], widths[level], o.kernel_sizes[level], o.convs_per_block)
            for level in range(o.depth + 1)
        )
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[level + 1], widths[level], 2, stride=2) for level in range(o.depth)
        )
        self.decoder = nn.ModuleList(
            ResidualBlock(2 * widths[level], widths[level], o.kernel_sizes[level], o.convs_per_block)
            for level in range(o.depth)
        )
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, size = pad_to_multiple(x, 2**self.depth)
        skips = []
        for level, block in enumerate(self.encoder):
            x = block(x if level == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for level in reversed(range(self.depth)):
            x = self.decoder[level](torch.cat([self.up[level](x), skips[level]], dim=1))
        return crop_to(self.head(x), size)


def unet_rf_path(options: UNetRFOptions) -> list[Layer]:
    """Layers on the path input -> bottleneck -> output (the longest one)."""
    n, ks = options.convs_per_block, options.kernel_sizes
    path: list[Layer] = []
    for level in range(options.depth):
        path += [Conv(ks[level])] * n + [Conv(2, stride=2)]
    path += [Conv(ks[-1])] * n
    for level in reversed(range(options.depth)):
        path += [Up(2)] + [Conv(ks[level])] * n
    return path


def unet_rf_receptive_field(options: UNetRFOptions) -> int:
    return path_receptive_field(unet_rf_path(options))
