"""The models the package ships, by the names users type (``--model hrtem``, ``model=`` of the
JSON API, the napari model pickers): one table, so every door offers the same models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dosewise.checkpoint import packaged_checkpoint
from dosewise.errors import InvalidParameterError


@dataclass(frozen=True)
class ShippedModel:
    """A model in ``dosewise/weights/`` (its card: the same name with ``.md``)."""

    name: str
    task: str
    checkpoint: str
    short: str
    """What ``--model`` also accepts (``hrtem`` for ``segment-hrtem-au``)."""


SHIPPED: dict[str, ShippedModel] = {m.name: m for m in (
    ShippedModel("denoise-default", "denoise", "denoise-default.ckpt", "default"),
    ShippedModel("segment-particles", "segment", "segment-particles.ckpt", "particles"),
    ShippedModel("segment-hrtem-au", "segment", "segment-hrtem-au.ckpt", "hrtem"),
    ShippedModel("supersample-default", "supersample", "supersample-default.ckpt", "default"),
)}


def find_shipped(name: str, task: str) -> ShippedModel | None:
    """The ``task`` model called ``name`` (full or short name), or None."""
    return next((m for m in SHIPPED.values() if m.task == task and name in (m.name, m.short)), None)


def shipped_checkpoint(name: str, task: str) -> Path:
    """The file of shipped model ``name``, which must be a ``task`` model."""
    model = find_shipped(name, task)
    if model is None:
        names = ", ".join(f"{m.name} ({m.short})" for m in SHIPPED.values() if m.task == task)
        raise InvalidParameterError(f"unknown {task} model {name!r}; shipped: {names}")
    return packaged_checkpoint(model.checkpoint, f"{task} model {model.name}")


def resolve_model(model: str | Path, task: str) -> Path:
    """A checkpoint path as given, or the shipped model a bare name (no such file) stands for."""
    path = Path(model)
    if not path.exists() and path.parent == Path(".") and find_shipped(str(model), task) is not None:
        return shipped_checkpoint(str(model), task)
    return path
