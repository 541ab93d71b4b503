from __future__ import annotations

import torch
from torch import nn

from dosewise.models import ModelConfig, build_model, effective_receptive_field_px, receptive_field_px

# The computed RF is the standard recursion (the nominal value Sytwu et al. quote). In a
# network with B max-pool levels and skips, the exact field of one output pixel depends on
# its position modulo 2**B and can exceed the nominal value by up to half a pooling period
# (exact 1D count for unet-3-96: 92 or 100 px; unet-4-424: 412 or 428 px; docs/models.md).
# Networks without pooling (MSD-net) and the others must stay within the computed value.
NOMINAL_MARGIN_PX = 8


def _pool_levels(config: ModelConfig) -> int:
    if config.name.startswith("unet-"):
        return int(config.name.split("-")[1])
    if config.name == "madsen-unet":
        return int(config.options.get("depth", 3))
    if config.name == "fast-unet":  # pixel unshuffle + strided convolutions
        return int(config.options.get("levels", 3))
    return 0


def test_effective_receptive_field_within_the_computed_one(tiny_config: ModelConfig) -> None:
    computed = receptive_field_px(tiny_config)
    torch.manual_seed(0)
    model = build_model(tiny_config)
    if tiny_config.name == "msdnet":  # its output layer starts at zero: no gradient to measure
        nn.init.normal_(model.head.weight)
    size = min(computed + 15, 201) | 1
    levels = _pool_levels(tiny_config)
    grid_jitter = 2 ** (levels - 1) if levels else 0
    fields = [  # every position of one pooling period
        effective_receptive_field_px(model, size, trials=4, position=size // 2 - offset)
        for offset in range(2**levels)
    ]
    assert 0 < min(fields) and max(fields) <= computed + grid_jitter
    if tiny_config.name.startswith("unet-") and size > computed:  # whole RF inside: it is all used
        assert max(fields) >= computed - NOMINAL_MARGIN_PX


def test_effective_receptive_field_of_a_single_convolution() -> None:
    assert effective_receptive_field_px(nn.Conv2d(1, 1, 5, padding=2, bias=False), 21) == 5
