"""Mixed-scale dense network (Pelt & Sethian 2018; Larsen et al. 2023, appendix A.1).

Layer i is a width-1 dilated convolution (reflection padded, ReLU) over the input and the
outputs of all earlier layers; a zero-initialised 1x1 layer reads every channel.

Memory grows linearly with depth: all feature maps live in one preallocated
(N, C_in + depth, H, W) buffer (no repeated ``torch.cat``, which would copy O(depth^2)
channels), and a custom autograd function stores only that buffer, recomputing each layer
in the backward pass instead of keeping per-layer activations.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pydantic
import torch
import torch.nn.functional as F
from torch import nn

from dosewise.models.config import ArchitectureOptions
from dosewise.models.padding import crop_to, pad_to_multiple
from dosewise.models.receptive_field import Conv, path_receptive_field


class MSDNetOptions(ArchitectureOptions):
    depth: int = pydantic.Field(50, ge=1, description="number of width-1 layers (Pelt: 100)")
    kernel_size: int = pydantic.Field(3, ge=1, description="3 (Pelt) or 9 (Larsen et al. 2023)")
    dilations: Literal["cycle", "random"] | tuple[int, ...] = "cycle"
    max_dilation: int = pydantic.Field(10, ge=1)
    seed: int = 0

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> MSDNetOptions:
        if self.kernel_size % 2 == 0:
            raise ValueError("kernel_size must be odd")
        if isinstance(self.dilations, tuple):
            if len(self.dilations) != self.depth or min(self.dilations) < 1:
                raise ValueError(f"dilations must be {self.depth} integers >= 1")
        return self

    def dilation_list(self) -> list[int]:
        """1, 2, ..., max_dilation repeated; or seeded uniform draws from [1, max_dilation]."""
        if isinstance(self.dilations, tuple):
            return list(self.dilations)
        if self.dilations == "cycle":
            return [i % self.max_dilation + 1 for i in range(self.depth)]
        rng = np.random.default_rng(self.seed)
        return [int(d) for d in rng.integers(1, self.max_dilation + 1, size=self.depth)]


def _layer(features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, dilation: int) -> torch.Tensor:
    pad = dilation * (weight.shape[-1] - 1) // 2
    padded = F.pad(features, (pad, pad, pad, pad), mode="reflect")
    return F.relu(F.conv2d(padded, weight, bias, dilation=dilation))


class _DenseStack(torch.autograd.Function):
    """All MSD layers at once; saves only the feature buffer and recomputes layers backwards."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, dilations: list[int], *params: torch.Tensor) -> torch.Tensor:
        device_type = x.device.type
        autocast = torch.is_autocast_enabled(device_type)
        dtype = torch.get_autocast_dtype(device_type) if autocast else x.dtype
        n_in, depth = x.shape[1], len(dilations)
        buffer = x.new_empty((x.shape[0], n_in + depth, *x.shape[2:]), dtype=dtype)
        buffer[:, :n_in] = x
        for i, dilation in enumerate(dilations):
            c = n_in + i
            buffer[:, c : c + 1] = _layer(buffer[:, :c], params[2 * i], params[2 * i + 1], dilation)
        ctx.save_for_backward(buffer, *params)
        ctx.meta = (dilations, n_in, device_type, autocast, dtype, x.dtype)
        return buffer

    @staticmethod
    def backward(ctx: Any, grad_buffer: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        buffer, *params = ctx.saved_tensors
        dilations, n_in, device_type, autocast, dtype, x_dtype = ctx.meta
        grad = grad_buffer.to(buffer.dtype).clone()
        param_grads: list[torch.Tensor | None] = [None] * len(params)
        for i in reversed(range(len(dilations))):
            c = n_in + i
            with torch.enable_grad(), torch.autocast(device_type, dtype=dtype, enabled=autocast):
                features = buffer[:, :c].detach().requires_grad_(True)
                weight, bias = params[2 * i].detach().requires_grad_(True), params[2 * i + 1].detach().requires_grad_(True)
                out = _layer(features, weight, bias, dilations[i])
                g_features, g_weight, g_bias = torch.autograd.grad(out, (features, weight, bias), grad[:, c : c + 1].to(out.dtype))
            grad[:, :c] += g_features.to(grad.dtype)
            param_grads[2 * i], param_grads[2 * i + 1] = g_weight, g_bias
        return (grad[:, :n_in].to(x_dtype), None, *param_grads)


class MSDNet(nn.Module):
    """Mixed-scale dense network; output layer starts at zero so the first output is exactly 0."""

    def __init__(self, in_channels: int, out_channels: int, options: MSDNetOptions) -> None:
        super().__init__()
        self.dilations = options.dilation_list()
        k = options.kernel_size
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for i in range(options.depth):
            layer = nn.Conv2d(in_channels + i, 1, k)  # default (Kaiming-uniform) initialisation
            self.weights.append(layer.weight)
            self.biases.append(layer.bias)
        self.head = nn.Conv2d(in_channels + options.depth, out_channels, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        # Reflection padding needs every side larger than the widest padding.
        self.min_size = max(self.dilations) * (k - 1) // 2 + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, size = pad_to_multiple(x, 1, min_size=self.min_size)
        params = [p for pair in zip(self.weights, self.biases) for p in pair]
        features = _DenseStack.apply(x, self.dilations, *params)
        return crop_to(self.head(features), size)


def msdnet_receptive_field(options: MSDNetOptions) -> int:
    return path_receptive_field(Conv(options.kernel_size, dilation=d) for d in options.dilation_list())
