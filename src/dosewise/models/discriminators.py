"""The conditional PatchGAN discriminator of Pix2Pix (Kazimi et al. 2024's pretraining GAN).

It sees the generator's input and an output (real or generated) concatenated along
channels and scores every overlapping 70x70 patch as real or fake, so it judges
texture and noise (high frequencies) while the L1 term takes care of the low ones.
"""

from __future__ import annotations

import torch
from torch import nn

KERNEL_PX = 4


class PatchDiscriminator(nn.Module):
    """C64-C128-C256-C512 4x4 convolutions (strides 2, 2, 2, 1), then a 1-channel score map.

    ``n_layers=3`` gives the 70x70 receptive field of Pix2Pix; no normalisation on the
    first layer, batch norm on the others, LeakyReLU(0.2).
    """

    def __init__(self, in_channels: int = 2, base_channels: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        self.n_layers = n_layers
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, base_channels, KERNEL_PX, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        channels = base_channels
        for index in range(1, n_layers + 1):
            out = base_channels * min(2**index, 8)
            stride = 2 if index < n_layers else 1
            layers += [
                nn.Conv2d(channels, out, KERNEL_PX, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            channels = out
        layers.append(nn.Conv2d(channels, 1, KERNEL_PX, stride=1, padding=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """Patch scores (N, 1, h, w) for ``image`` given the generator input ``condition``."""
        return self.layers(torch.cat([condition, image], dim=1))


def patch_receptive_field_px(n_layers: int = 3) -> int:
    """Receptive field of one output score: back through the stride-1 layers, then the rest."""
    strides = [2] * n_layers + [1, 1]
    field = 1
    for stride in reversed(strides):
        field = (field - 1) * stride + KERNEL_PX
    return field
