"""Fine-tuning recipes (Kazimi et al. 2024, §3.3 and §4.2-4.3): a downstream task on a labelled
store, starting from random weights or from a (pre)trained checkpoint.

Downstream tasks and what they read from a simulator store:

=============  =========  =================================  ========
task           spine      input -> target                    loss
=============  =========  =================================  ========
segment        segment    noisy -> mask                      BCE
denoise        restore    noisy -> noise_free (else clean)   L1 + L2
nbgr           restore    noisy -> clean                     L1 + L2
superres       restore    noisy -> superres                  L1 + L2
=============  =========  =================================  ========

``nbgr`` is noise & background removal; the STEM simulator writes all four targets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dosewise.checkpoint import checkpoint_model
from dosewise.config.base import apply_overrides
from dosewise.config.choices import Downstream
from dosewise.config.training import TrainConfig
from dosewise.errors import InputFileError, InvalidParameterError
from dosewise.io import DatasetStore
from dosewise.models import ModelConfig

DOWNSTREAM_TASKS: tuple[str, ...] = tuple(task.value for task in Downstream)
_TARGETS: dict[str, tuple[str, ...]] = {
    "segment": ("mask",),
    "denoise": ("noise_free", "clean"),
    "nbgr": ("clean",),
    "superres": ("superres",),
}


def target_for(task: Downstream | str, store: str | Path) -> str:
    """The store array a downstream task learns: the first of its candidates the store has."""
    task = task.value if isinstance(task, Downstream) else task
    if task not in _TARGETS:
        raise InvalidParameterError(f"unknown fine-tuning task {task!r}; choose one of {', '.join(DOWNSTREAM_TASKS)}")
    opened = DatasetStore.open(store)
    ids = opened.ids()
    if not ids:
        raise InputFileError("dataset store has no complete samples", Path(store))
    names = opened.sample(ids[0]).names
    for candidate in _TARGETS[task]:
        if candidate in names:
            return candidate
    raise InputFileError(
        f"task {task!r} needs an array {' or '.join(_TARGETS[task])!r} in the store; it has {', '.join(names)}",
        Path(store),
    )


def finetune_config(
    task: Downstream | str,
    store: str | Path,
    *,
    init: str | Path | None = None,
    model: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """The :class:`TrainConfig` of a downstream task; the model comes from ``init`` when
    not named (a named model must fit the checkpoint for anything to transfer)."""
    task = task.value if isinstance(task, Downstream) else task
    if model is None and init is None:
        raise InvalidParameterError("name a --model for random initialisation, or give --init")
    model_config = ModelConfig(name=model) if model is not None else checkpoint_model(init)
    model_config = model_config.model_copy(update={"in_channels": 1, "out_channels": 1})
    raw: dict[str, Any] = {
        "task": "segment" if task == "segment" else "restore",
        "model": model_config.model_dump(mode="json"),
        "data": {"store": str(store), "input": "noisy", "target": target_for(task, store)},
        "loss": "bce" if task == "segment" else "l1_l2",
        "init": str(init) if init is not None else None,
    }
    return TrainConfig.validate_dict(apply_overrides(raw, overrides or {}))
