from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dosewise.models import ModelConfig, build_model


def msd(**options) -> nn.Module:
    return build_model(ModelConfig(name="msdnet", options={"depth": 6, **options}))


def test_output_is_exactly_zero_at_initialisation() -> None:
    y = build_model(ModelConfig(name="msdnet"))(torch.randn(1, 1, 40, 40))
    assert torch.count_nonzero(y) == 0


def test_dilations_cycle_by_default_and_are_seeded_when_random() -> None:
    assert msd(depth=12).dilations == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2]
    first, again, other = (msd(depth=30, dilations="random", seed=s).dilations for s in (3, 3, 4))
    assert first == again != other
    assert 1 <= min(first) and max(first) <= 10


def naive_forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Textbook MSD-net with torch.cat, to check the buffer + custom backward against."""
    features = x
    for weight, bias, d in zip(model.weights, model.biases, model.dilations):
        pad = d * (weight.shape[-1] - 1) // 2
        out = F.relu(F.conv2d(F.pad(features, (pad,) * 4, mode="reflect"), weight, bias, dilation=d))
        features = torch.cat([features, out], dim=1)
    return model.head(features)


def test_memory_lean_backward_matches_plain_autograd() -> None:
    torch.manual_seed(0)
    model = msd(kernel_size=3, dilations="random", seed=1).double()
    nn.init.normal_(model.head.weight)
    x = torch.randn(2, 1, 24, 27, dtype=torch.float64, requires_grad=True)
    grads = []
    for forward in (model, lambda t: naive_forward(model, t)):
        model.zero_grad()
        x.grad = None
        forward(x).square().sum().backward()
        grads.append([x.grad.clone()] + [p.grad.clone() for p in model.parameters()])
    for lean, plain in zip(*grads):
        torch.testing.assert_close(lean, plain)
