"""The one serialisable description of a network: what checkpoints store and YAML recipes hold."""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic

from dosewise.errors import InvalidParameterError, describe_validation_error

OptionsT = TypeVar("OptionsT", bound=pydantic.BaseModel)


class ModelConfig(pydantic.BaseModel):
    """Registry name, channel counts and architecture-specific ``options``.

    ``options`` stays a plain dict so the config round-trips through YAML unchanged; each
    architecture validates it with its own pydantic options model when the network is built.
    """

    model_config = pydantic.ConfigDict(extra="forbid")

    name: str
    in_channels: int = pydantic.Field(1, ge=1)
    out_channels: int = pydantic.Field(1, ge=1)
    options: dict[str, Any] = pydantic.Field(default_factory=dict)


class ArchitectureOptions(pydantic.BaseModel):
    """Base of every architecture's options: unknown keys are errors, not silently ignored."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


def parse_options(model: type[OptionsT], name: str, defaults: dict[str, Any], options: dict[str, Any]) -> OptionsT:
    """Validate ``defaults`` overridden by ``options``; a bad value is one InvalidParameterError line."""
    try:
        return model.model_validate({**defaults, **options})
    except pydantic.ValidationError as error:
        raise InvalidParameterError(f"model {name!r}: invalid options ({describe_validation_error(error)})") from None
