"""``dosewise train``: supervised training recipes from a YAML config, flags, or both."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from dosewise.cli.common import JsonFlag, report_training, user_errors_exit_2
from dosewise.errors import InputFileError, InvalidParameterError

train_app = typer.Typer(help="Train networks (segmentation now; restoration recipes build on the same spine).",
                        no_args_is_help=True)


def load_yaml_mapping(config: Path | None) -> dict[str, Any]:
    if config is None:
        return {}
    if not config.is_file():
        raise InputFileError("file not found", config)
    try:
        raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())
        raise InputFileError(f"cannot read YAML config: {reason}", config) from error
    if not isinstance(raw, dict):
        raise InvalidParameterError("config must be a YAML mapping of field: value", config)
    return raw


def _apply_data(raw: dict[str, Any], data: Path, masks: Path | None) -> None:
    section = dict(raw.get("data") or {})
    for key in ("store", "images_dir", "masks_dir"):
        section.pop(key, None)
    if masks is not None:
        section["images_dir"], section["masks_dir"] = str(data), str(masks)
    else:
        section["store"] = str(data)
    raw["data"] = section


@train_app.command("segment")
@user_errors_exit_2
def train_segment(
    config: Annotated[Path | None, typer.Option(help="YAML recipe (flags below override its values).")] = None,
    data: Annotated[
        Path | None, typer.Option(help="A store from `dosewise simulate`, or a folder of images (with --masks).")
    ] = None,
    masks: Annotated[Path | None, typer.Option(help="Folder of masks matching the images in --data by name.")] = None,
    model: Annotated[str | None, typer.Option(help="Registry model name (see `dosewise models`).")] = None,
    epochs: Annotated[int | None, typer.Option(help="Number of epochs.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Batch size.")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate.")] = None,
    crop: Annotated[int | None, typer.Option(help="Random crop size in pixels.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (checkpoints, logs, curves).")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from <out>/checkpoints/last.ckpt when present.")] = True,
    as_json: JsonFlag = False,
) -> None:
    """Train a segmentation network; resumable, with checkpoints every N epochs and the best one."""
    from dosewise.tasks import TrainConfig, train

    raw = load_yaml_mapping(config)
    raw["task"] = "segment"
    if data is not None:
        _apply_data(raw, data, masks)
    elif masks is not None:
        raise InvalidParameterError("--masks needs --data (the folder of images)")
    if "data" not in raw:
        raise InvalidParameterError("no training data: give --data (and --masks for image folders) or --config")
    if model is not None:
        raw["model"] = {"name": model}
    raw.setdefault("model", {"name": "unet-2-44"})
    overrides = {"epochs": epochs, "batch_size": batch_size, "out_dir": out, "device": device, "seed": seed}
    raw.update({key: str(value) if isinstance(value, Path) else value
                for key, value in overrides.items() if value is not None})
    if lr is not None:
        raw["optimiser"] = {**(raw.get("optimiser") or {}), "lr": lr}
    if crop is not None:
        raw["data"] = {**raw["data"], "crop_size": crop}
    train_config = TrainConfig.validate_dict(raw, config)
    result = train(train_config, resume=resume, progress=not as_json)
    report_training(result, as_json)
