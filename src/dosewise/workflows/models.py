"""The Python face of ``dosewise models``: the network registry, one row per network.

It exists so that a notebook lists the same names, sizes and receptive fields as the command.
"""

from __future__ import annotations

from typing import Any

from dosewise.models import ModelConfig, list_models, model_info


def list_model_info() -> list[dict[str, Any]]:
    """Name, parameter count, theoretical receptive field (px) and description of every
    registered network, at its default options."""
    return [model_info(ModelConfig(name=name)) for name in list_models()]
