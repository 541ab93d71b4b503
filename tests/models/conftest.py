"""Tiny options per registry model so the whole folder runs in seconds on 2 CPU cores."""

from __future__ import annotations

from typing import Any

import pytest

from dosewise.models import ModelConfig, list_models


def tiny_options(name: str) -> dict[str, Any]:
    if name.startswith("unet-"):
        return {"base_width": 8}
    return {
        "hrnet": {"width": 4},
        "msdnet": {"depth": 8},
        "madsen-unet": {"base_width": 4, "depth": 2},
        "resnet18-unet": {"decoder_channels": [16, 8, 8, 4, 4]},
        "fast-unet": {"width": 4, "levels": 2},
    }[name]


@pytest.fixture(params=list_models())
def tiny_config(request: pytest.FixtureRequest) -> ModelConfig:
    return ModelConfig(name=request.param, options=tiny_options(request.param))
