from __future__ import annotations

import pytest
import torch

from dosewise.models import ModelConfig, build_model


@pytest.mark.parametrize("shape", [(1, 1, 45, 67), (2, 1, 64, 64), (1, 1, 7, 5)])
def test_any_size_in_same_size_out(tiny_config: ModelConfig, shape: tuple[int, ...]) -> None:
    model = build_model(tiny_config.model_copy(update={"out_channels": 3})).eval()
    with torch.no_grad():
        y = model(torch.randn(shape))
    assert y.shape == (shape[0], 3, *shape[2:]) and y.dtype == torch.float32


def test_multichannel_input_trains_under_bf16_autocast(tiny_config: ModelConfig) -> None:
    model = build_model(tiny_config.model_copy(update={"in_channels": 2}))
    x = torch.randn(2, 2, 33, 40)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = model(x)
    assert y.shape == (2, 1, 33, 40)
    y.float().square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
