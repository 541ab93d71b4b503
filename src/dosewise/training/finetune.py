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
Segmentation also learns from folders of images and masks (a microscopist's own labels).

Initialisation: the weights pretrained by ``scripts/pretrain_foundation.py`` and shipped in
``dosewise/weights/`` (``init="pretrained"``, the command's default), random weights
(``"random"``) or any training or pretraining checkpoint (a path).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dosewise.checkpoint import checkpoint_model, packaged_checkpoint
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


PRETRAINED_WEIGHTS: dict[str, str] = {"hrnet": "pretrained-hrnet.ckpt"}
"""Registry model -> its shipped pretrained checkpoint in ``dosewise/weights/``."""
DEFAULT_FINETUNE_MODEL = "hrnet"
INIT_CHOICES = ("pretrained", "random")


def resolve_init(init: str | Path | None, model: str | None) -> Path | None:
    """The checkpoint to start from: ``"pretrained"`` -> the shipped weights of ``model`` (the
    default model when none is named), ``"random"`` or ``None`` -> none, else a path."""
    if init is None or str(init) == "random":
        return None
    if str(init) != "pretrained":
        return Path(init)
    name = model or DEFAULT_FINETUNE_MODEL
    if name not in PRETRAINED_WEIGHTS:
        raise InvalidParameterError(
            f"no pretrained weights are shipped for {name!r} (shipped: {', '.join(sorted(PRETRAINED_WEIGHTS))}); "
            "use --init random or --init CKPT")
    return packaged_checkpoint(PRETRAINED_WEIGHTS[name], f"pretrained {name}", hint="use --init random or --init CKPT")


def _checked_task(task: Downstream | str) -> str:
    task = task.value if isinstance(task, Downstream) else task
    if task not in _TARGETS:
        raise InvalidParameterError(f"unknown fine-tuning task {task!r}; choose one of {', '.join(DOWNSTREAM_TASKS)}")
    return task


def target_for(task: Downstream | str, store: str | Path) -> str:
    """The store array a downstream task learns: the first of its candidates the store has."""
    task = _checked_task(task)
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
    source: str | Path | dict[str, Any],
    *,
    init: str | Path | None = None,
    model: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """The :class:`TrainConfig` of a downstream task on ``source``: a labelled store, or
    (segmentation) a mapping of folders ``{"images_dir": ..., "masks_dir": ...}`` with any
    other data keys (``val_images_dir``, ``class_id``, ...). ``init`` as :func:`resolve_init`
    takes it; the model comes from the checkpoint when not named (a named model must fit it
    for anything to transfer)."""
    task = _checked_task(task)
    init = resolve_init(init, model) if isinstance(init, str) else init
    if model is None and init is None:
        raise InvalidParameterError("name a --model for random initialisation, or give --init")
    model_config = ModelConfig(name=model) if model is not None else checkpoint_model(init)
    model_config = model_config.model_copy(update={"in_channels": 1, "out_channels": 1})
    if isinstance(source, dict):
        if task != "segment":
            raise InvalidParameterError(f"task {task!r} learns from a store; image/mask folders are for segment")
        data = {key: str(value) if isinstance(value, Path) else value for key, value in source.items()}
    else:
        data = {"store": str(source), "input": "noisy", "target": target_for(task, source)}
    raw: dict[str, Any] = {
        "task": "segment" if task == "segment" else "restore",
        "model": model_config.model_dump(mode="json"),
        "data": data,
        "loss": "bce" if task == "segment" else "l1_l2",
        "init": str(init) if init is not None else None,
    }
    return TrainConfig.validate_dict(apply_overrides(raw, overrides or {}))
