"""What every recipe shares: strict fields, one-line errors, YAML in and out, overrides.

A recipe is a pydantic model. Unknown keys are errors (a typo must not be ignored), a
key that was renamed names its new spelling, and every validation problem becomes one
:class:`~dosewise.errors.InvalidParameterError` line naming the file. Command-line flags
and notebook callers change a recipe the same way, through :func:`apply_overrides`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Self, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from dosewise.errors import InvalidParameterError, describe_validation_error
from dosewise.io.yaml_file import read_yaml_mapping, write_yaml


class Section(BaseModel):
    """A strict part of a recipe. ``renamed`` maps old spellings to the key that replaced
    them (a dotted path when the key moved into a sub-section), so old recipes fail with a
    line that tells the user what to write instead. A field typed by a ``str`` enum (see
    :mod:`dosewise.config.choices`) takes a member or its value and holds the value."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    renamed: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _refuse_renamed_keys(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping):
            for old, new in cls.renamed.items():
                if old in raw:
                    raise ValueError(f"'{old}' was renamed: write '{new}' instead")
        return raw

    @classmethod
    def migrate(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """``raw`` with old spellings moved to their new keys, in this section and every
        sub-section: recipes stored inside checkpoints of earlier versions still load."""
        out = dict(raw)
        for old, new in cls.renamed.items():
            if old in out:
                _put(out, new.split("."), out.pop(old))
        for name, info in cls.model_fields.items():
            value = out.get(name)
            for section in _sections(info.annotation):
                if isinstance(value, Mapping):
                    out[name] = section.migrate(value)
                elif isinstance(value, list):
                    out[name] = [section.migrate(v) if isinstance(v, Mapping) else v for v in value]
        return out


def _sections(annotation: Any) -> list[type[Section]]:
    """The :class:`Section` types a field may hold (``X``, ``X | None``, ``list[X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, Section):
        return [annotation]
    if get_origin(annotation) is not None or get_args(annotation):
        return [s for arg in get_args(annotation) for s in _sections(arg)]
    return []


def _put(target: dict[str, Any], keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target.setdefault(keys[-1], value)


class Recipe(Section):
    """A whole recipe: read from YAML or a dict, written back to YAML with defaults resolved."""

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> Self:
        """Read and validate a YAML recipe, with ``overrides`` applied on top (see
        :func:`apply_overrides`); any problem is one line naming the file."""
        raw = apply_overrides(read_yaml_mapping(path), overrides or {})
        return cls.validate_dict(raw, path)

    @classmethod
    def validate_dict(cls, raw: Mapping[str, Any], source: str | Path | None = None) -> Self:
        """Validate a plain mapping; errors become one :class:`InvalidParameterError` line."""
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as exc:
            raise InvalidParameterError(describe_validation_error(exc), source) from exc

    def to_yaml(self, path: str | Path) -> Path:
        """Write the recipe (all fields, defaults resolved) as YAML, atomically."""
        return write_yaml(path, self.model_dump(mode="json"))

    def with_overrides(self, overrides: Mapping[str, Any]) -> Self:
        """A validated copy with ``overrides`` applied (see :func:`apply_overrides`)."""
        return self.validate_dict(apply_overrides(self.model_dump(mode="json"), overrides))


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` with every given value of ``overrides`` put in: ``None`` means "not given" and
    keeps the recipe's value, nested mappings merge key by key (``{"data": {"crop_px": 64}}``
    changes one data field; one that gives nothing adds no section), and paths and enum
    members become text so the result round-trips through YAML."""
    merged = dict(raw)
    for key, value in overrides.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            current = merged.get(key)
            if not isinstance(current, Mapping) and not _gives_something(value):
                continue
            merged[key] = apply_overrides(current if isinstance(current, Mapping) else {}, value)
        else:
            merged[key] = _plain(value)
    return merged


def _gives_something(overrides: Mapping[str, Any]) -> bool:
    return any(v is not None and (not isinstance(v, Mapping) or _gives_something(v)) for v in overrides.values())


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
