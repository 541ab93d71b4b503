"""ResNet18-encoder U-Net (Katsuno et al. 2022) from segmentation_models_pytorch, with random
weights.

``encoder_weights=None`` always: the runtime never downloads anything. Wrapped so any input
size works (smp needs multiples of 2**encoder_depth = 32).
"""

from __future__ import annotations

import pydantic
import torch
from torch import nn

from dosewise.models.config import ArchitectureOptions
from dosewise.models.padding import crop_to, pad_to_multiple
from dosewise.models.receptive_field import Conv, Layer, Up, path_receptive_field

ENCODER_DEPTH = 5
RESNET18_BLOCKS = (2, 2, 2, 2)  # basic blocks (two 3x3 convs each) in layer1..layer4


class SmpUNetOptions(ArchitectureOptions):
    decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16)

    @pydantic.field_validator("decoder_channels")
    @classmethod
    def _five(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(value) != ENCODER_DEPTH or min(value) < 1:
            raise ValueError(f"need {ENCODER_DEPTH} positive decoder widths")
        return value


class SmpResNet18UNet(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, options: SmpUNetOptions) -> None:
        super().__init__()
        import segmentation_models_pytorch as smp  # the [train] extra: the rest of the zoo runs without it

        self.net = smp.Unet(
            encoder_name="resnet18",
            encoder_weights=None,
            encoder_depth=ENCODER_DEPTH,
            decoder_channels=options.decoder_channels,
            in_channels=in_channels,
            classes=out_channels,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, size = pad_to_multiple(x, 2**ENCODER_DEPTH)
        return crop_to(self.net(x), size)


def smp_unet_path() -> list[Layer]:
    """Analytic path: 7x7/2 stem, 3x3/2 max-pool, ResNet18 main convs, 5 decoder blocks
    (nearest x2 then two 3x3 convs), 3x3 segmentation head. The 1x1 shortcut convs are shorter."""
    path: list[Layer] = [Conv(7, stride=2), Conv(3, stride=2)]
    for stage, blocks in enumerate(RESNET18_BLOCKS):
        path.append(Conv(3, stride=1 if stage == 0 else 2))
        path += [Conv(3)] * (2 * blocks - 1)
    for _ in range(ENCODER_DEPTH):
        path += [Up(2), Conv(3), Conv(3)]
    return path + [Conv(3)]


def smp_unet_receptive_field(options: SmpUNetOptions) -> int:
    return path_receptive_field(smp_unet_path())
