"""Tiny options per registry model so the whole folder runs in seconds on 2 CPU cores."""

from __future__ import annotations

import pytest

from dosewise.models import ModelConfig, list_models
from tests.helpers.configs import tiny_model_options


@pytest.fixture(params=list_models())
def tiny_config(request: pytest.FixtureRequest) -> ModelConfig:
    return ModelConfig(name=request.param, options=tiny_model_options(request.param))
