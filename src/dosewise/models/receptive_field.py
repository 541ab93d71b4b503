"""Receptive fields: the theoretical one from a layer path, the effective one from gradients.

The theoretical RF uses the standard recursion over the longest path through a network,
``rf += (k_eff - 1) * jump; jump *= stride`` with ``k_eff = dilation * (k - 1) + 1``.
Upsampling divides the jump; how many coarse pixels one fine pixel reads (``taps``: 1 for
nearest / transposed conv with kernel = stride, 2 for bilinear) adds ``(taps - 1) * jump``,
and ``slack`` adds the alignment uncertainty of the copy, ``(factor - 1)`` fine pixels to
each side (kept symmetric so that maps reached over different paths can be merged by taking
the widest), needed where the upsampled map is not simply followed by an odd kernel at x2
(HRNet fusion and head). A x2 upsample followed by an odd-kernel convolution needs no slack: the k fine
pixels always cover (k + 1) / 2 coarse pixels, i.e. exactly (k - 1) fine jumps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

import torch
from torch import nn


@dataclass(frozen=True)
class Conv:
    """A convolution or pooling window on the path."""

    kernel: int
    stride: int = 1
    dilation: int = 1


@dataclass(frozen=True)
class Up:
    """An upsampling by ``factor`` on the path (see the module docstring for taps / slack)."""

    factor: int
    taps: int = 1
    slack: bool = False


Layer = Conv | Up


@dataclass(frozen=True)
class RFState:
    """Receptive field ``rf`` (input px) and ``jump`` (input px per feature px) of a feature map."""

    rf: Fraction = Fraction(1)
    jump: Fraction = Fraction(1)

    def then(self, layers: Iterable[Layer]) -> RFState:
        """The state after ``layers`` are applied in order."""
        rf, jump = self.rf, self.jump
        for layer in layers:
            if isinstance(layer, Conv):
                rf += (layer.dilation * (layer.kernel - 1)) * jump
                jump *= layer.stride
            else:
                rf += (layer.taps - 1) * jump
                jump /= layer.factor
                if layer.slack:
                    rf += 2 * (layer.factor - 1) * jump
        return RFState(rf, jump)

    @property
    def px(self) -> int:
        """The receptive field as a whole number of input pixels (rounded up)."""
        return int(-(-self.rf // 1))


def path_receptive_field(layers: Iterable[Layer]) -> int:
    """Theoretical receptive field (input px) of the output of a layer path."""
    return RFState().then(layers).px


def widest(*states: RFState) -> RFState:
    """Where branches are summed or concatenated the widest input sets the receptive field."""
    jumps = {s.jump for s in states}
    if len(jumps) != 1:
        raise ValueError(f"cannot merge feature maps with different jumps {sorted(jumps)}")
    return max(states, key=lambda s: s.rf)


def count_parameters(module: nn.Module) -> int:
    """Number of scalar parameters (trainable or not) of ``module``."""
    return sum(p.numel() for p in module.parameters())


def effective_receptive_field_px(
    module: nn.Module, size: int, in_channels: int = 1, seed: int = 0, trials: int = 4,
    position: int | None = None,
) -> int:
    """Extent (px) of the non-zero input gradient of one output pixel (default: the centre).

    ``position`` (row = column) picks another pixel: in a U-Net with B pooling levels the
    exact field depends on the position modulo 2**B, and the standard recursion describes
    pixels on the pooling grid (see docs/models.md).

    The module runs in eval mode on ``trials`` random normal ``(1, C, size, size)``
    inputs (the union of their supports is used, so one input that switches the centre
    pixel's ReLUs off does not hide the field); the gradient of the centre pixel of output
    channel 0 is back-propagated and the larger side of the bounding box of its non-zero
    entries is returned. Capped by ``size``: choose it larger than the theoretical RF.
    """
    generator = torch.Generator().manual_seed(seed)
    was_training = module.training
    module.eval()
    support = torch.zeros(size, size, dtype=torch.bool)
    try:
        for _ in range(trials):
            x = torch.randn(1, in_channels, size, size, generator=generator)
            x.requires_grad_(True)
            centre = size // 2 if position is None else position
            module(x)[0, 0, centre, centre].backward()
            support |= (x.grad[0] != 0).any(dim=0)
    finally:
        module.train(was_training)
    rows = torch.nonzero(support.any(dim=1)).flatten()
    cols = torch.nonzero(support.any(dim=0)).flatten()
    if rows.numel() == 0:
        return 0
    return int(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))
