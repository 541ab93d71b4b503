"""A compact HRNet (Sun et al. 2019 / Wang et al. 2021; as in Kazimi et al. 2024) for dense
full-resolution output.

Stem of ``stem_stride_log2`` stride-2 convolutions, then stages that each add a branch at half
the resolution of the last one; every module runs ``blocks`` basic residual blocks per branch
and fuses all branches into each (stride-2 3x3 convolutions down, 1x1 convolution + nearest
upsampling up). The head upsamples every branch to the stem resolution, concatenates, mixes
with a 1x1 convolution and upsamples bilinearly to the input resolution for a 3x3 + 1x1 head.
Written here rather than taken from timm, whose HRNet fixes a 64-channel stem and its stage
layout in a module-level table and ends in an ImageNet classifier.
"""

from __future__ import annotations

import pydantic
import torch
import torch.nn.functional as F
from torch import nn

from dosewise.models.config import ArchitectureOptions
from dosewise.models.padding import crop_to, pad_to_multiple
from dosewise.models.receptive_field import Conv, RFState, Up, widest


class HRNetOptions(ArchitectureOptions):
    """Defaults follow HRNet-W18-small (v1): 4 branches, one module per stage, 2 blocks."""

    width: int = pydantic.Field(18, ge=1, description="channels of branch 0; branch b has width * 2**b")
    branches: int = pydantic.Field(4, ge=1)
    modules_per_stage: int = pydantic.Field(1, ge=1)
    blocks: int = pydantic.Field(2, ge=1, description="basic blocks per branch per module")
    stem_stride_log2: int = pydantic.Field(2, ge=1, le=3, description="stem output at 1/2**n")


def conv_bn_relu(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(out_ch),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_bn_relu(width, width), conv_bn_relu(width, width, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class Fuse(nn.Module):
    """Sum of every branch brought to branch ``target``'s resolution and width."""

    def __init__(self, widths: list[int], target: int) -> None:
        super().__init__()
        self.target = target
        paths: list[nn.Module] = []
        for source, width in enumerate(widths):
            if source == target:
                paths.append(nn.Identity())
            elif source > target:
                paths.append(conv_bn_relu(width, widths[target], kernel=1, relu=False))
            else:
                steps = [conv_bn_relu(width, width, stride=2) for _ in range(target - source - 1)]
                steps.append(conv_bn_relu(width, widths[target], stride=2, relu=False))
                paths.append(nn.Sequential(*steps))
        self.paths = nn.ModuleList(paths)

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = 0
        for source, (path, x) in enumerate(zip(self.paths, xs)):
            y = path(x)
            if source > self.target:
                y = F.interpolate(y, scale_factor=float(2 ** (source - self.target)), mode="nearest")
            out = out + y
        return F.relu(out)


class HRModule(nn.Module):
    def __init__(self, widths: list[int], blocks: int) -> None:
        super().__init__()
        self.branches = nn.ModuleList(nn.Sequential(*(BasicBlock(w) for _ in range(blocks))) for w in widths)
        self.fuse = nn.ModuleList(Fuse(widths, target) for target in range(len(widths))) if len(widths) > 1 else None

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        return xs if self.fuse is None else [fuse(xs) for fuse in self.fuse]


class HRNet(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, options: HRNetOptions) -> None:
        super().__init__()
        o = options
        self.multiple = 2 ** (o.stem_stride_log2 + o.branches - 1)
        self.stem_factor = 2**o.stem_stride_log2
        widths = [o.width * 2**b for b in range(o.branches)]
        stem = [conv_bn_relu(in_channels, o.width, stride=2)]
        stem += [conv_bn_relu(o.width, o.width, stride=2) for _ in range(o.stem_stride_log2 - 1)]
        self.stem = nn.Sequential(*stem)
        self.stage1 = HRModule(widths[:1], o.blocks)
        self.transitions = nn.ModuleList(conv_bn_relu(widths[b - 1], widths[b], stride=2) for b in range(1, o.branches))
        self.stages = nn.ModuleList(
            nn.Sequential(*(HRModule(widths[: b + 1], o.blocks) for _ in range(o.modules_per_stage)))
            for b in range(1, o.branches)
        )
        self.mix = conv_bn_relu(sum(widths), o.width, kernel=1)
        self.head = nn.Sequential(conv_bn_relu(o.width, o.width), nn.Conv2d(o.width, out_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, size = pad_to_multiple(x, self.multiple)
        xs = self.stage1([self.stem(x)])
        for transition, stage in zip(self.transitions, self.stages):
            xs = stage(xs + [transition(xs[-1])])
        full = xs[0].shape[-2:]
        features = torch.cat([xs[0]] + [F.interpolate(y, size=full, mode="bilinear", align_corners=False) for y in xs[1:]], dim=1)
        features = F.interpolate(self.mix(features), scale_factor=float(self.stem_factor), mode="bilinear", align_corners=False)
        return crop_to(self.head(features), size)


def hrnet_receptive_field(options: HRNetOptions) -> int:
    """Recursion per branch, taking the widest incoming path at every fusion (an upper bound).

    Nearest and bilinear upsampling by f that are not followed by an odd kernel at x2 are
    counted with their alignment slack (f - 1 fine pixels), see receptive_field.py.
    """
    o = options
    block = [Conv(3)] * 2
    state = RFState().then([Conv(3, stride=2)] * o.stem_stride_log2)
    states = [state.then(block * o.blocks)]
    for b in range(1, o.branches):
        states.append(states[-1].then([Conv(3, stride=2)]))
        for _ in range(o.modules_per_stage):
            states = [s.then(block * o.blocks) for s in states]
            states = [
                widest(*(_fused(states[src], src, target) for src in range(len(states))))
                for target in range(len(states))
            ]
    merged = widest(*(_fused(states[src], src, 0, head=True) for src in range(len(states))))
    return merged.then([Up(2**o.stem_stride_log2, taps=2, slack=True), Conv(3)]).px


def _fused(state: RFState, source: int, target: int, head: bool = False) -> RFState:
    if source < target:
        return state.then([Conv(3, stride=2)] * (target - source))
    if source > target:
        return state.then([Up(2 ** (source - target), taps=2 if head else 1, slack=True)])
    return state
