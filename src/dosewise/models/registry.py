"""Name -> architecture: how to validate its options, build it and compute its receptive field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pydantic
from torch import nn

from dosewise.errors import InvalidParameterError
from dosewise.models.config import ModelConfig, parse_options
from dosewise.models.fast_unet import FastUNet, FastUNetOptions, fast_unet_receptive_field
from dosewise.models.hrnet import HRNet, HRNetOptions, hrnet_receptive_field
from dosewise.models.madsen_unet import MadsenUNet, MadsenUNetOptions, madsen_unet_receptive_field
from dosewise.models.msdnet import MSDNet, MSDNetOptions, msdnet_receptive_field
from dosewise.models.receptive_field import count_parameters
from dosewise.models.smp_unet import SmpResNet18UNet, SmpUNetOptions, smp_unet_receptive_field
from dosewise.models.unet_rf import PRESET_KERNELS, UNetRF, UNetRFOptions, unet_rf_receptive_field


@dataclass(frozen=True)
class Architecture:
    options: type[pydantic.BaseModel]
    build: Callable[[int, int, Any], nn.Module]
    receptive_field: Callable[[Any], int]
    description: str
    defaults: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, Architecture] = {
    **{
        name: Architecture(
            UNetRFOptions,
            UNetRF,
            unet_rf_receptive_field,
            f"U-Net_B_RF (Sytwu et al. 2022): residual U-Net, B={len(kernels) - 1}, "
            f"per-level kernels {list(kernels)}",
            {"kernel_sizes": kernels},
        )
        for name, kernels in PRESET_KERNELS.items()
    },
    "hrnet": Architecture(
        HRNetOptions, HRNet, hrnet_receptive_field,
        "HRNet (W18-small-like): parallel multi-resolution branches, repeated fusion, full-resolution head",
    ),
    "msdnet": Architecture(
        MSDNetOptions, MSDNet, msdnet_receptive_field,
        "MSD-net (Pelt & Sethian 2018): width-1 densely connected dilated convolutions, zero-initialised output",
    ),
    "madsen-unet": Architecture(
        MadsenUNetOptions, MadsenUNet, madsen_unet_receptive_field,
        "U-Net of Madsen et al. (Larsen et al. 2023): five 5x5 convs + PReLU per block, "
        "short skip, bilinear up",
    ),
    "fast-unet": Architecture(
        FastUNetOptions, FastUNet, fast_unet_receptive_field,
        "Fast U-Net for live denoising: pixel-unshuffle, 2-level plain-conv U-Net, pixel-shuffle",
    ),
    "resnet18-unet": Architecture(
        SmpUNetOptions, SmpResNet18UNet, smp_unet_receptive_field,
        "segmentation_models_pytorch U-Net with a randomly initialised ResNet18 encoder "
        "(Katsuno et al. 2022)",
    ),
}


def list_models() -> list[str]:
    """Registry names, U-Net_B_RF presets first."""
    return list(_REGISTRY)


def _resolve(config: ModelConfig) -> tuple[Architecture, pydantic.BaseModel]:
    try:
        arch = _REGISTRY[config.name]
    except KeyError:
        raise InvalidParameterError(
            f"unknown model {config.name!r}; choose one of: {', '.join(_REGISTRY)}"
        ) from None
    return arch, parse_options(arch.options, config.name, arch.defaults, config.options)


def build_model(config: ModelConfig) -> nn.Module:
    """The network of ``config`` with fresh random weights; it returns raw logits."""
    arch, options = _resolve(config)
    return arch.build(config.in_channels, config.out_channels, options)


def receptive_field_px(config: ModelConfig) -> int:
    """Theoretical receptive field (input px) computed from the configuration."""
    arch, options = _resolve(config)
    return arch.receptive_field(options)


def model_info(config: ModelConfig) -> dict[str, Any]:
    """Name, parameter count, receptive field and a one-line description."""
    arch, options = _resolve(config)
    return {
        "name": config.name,
        "parameters": count_parameters(arch.build(config.in_channels, config.out_channels, options)),
        "receptive_field_px": arch.receptive_field(options),
        "description": arch.description,
    }
