"""``dosewise train``: supervised training recipes from a YAML config, flags, or both."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from dosewise.cli.common import JsonFlag, report_training, user_errors_exit_2
from dosewise.errors import InputFileError, InvalidParameterError

train_app = typer.Typer(help="Train networks: segmentation and denoising, on one resumable training spine.",
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
    from dosewise.config import TrainConfig
    from dosewise.training import train

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
        raw["data"] = {**raw["data"], "crop_px": crop}
    train_config = TrainConfig.validate_dict(raw, config)
    result = train(train_config, resume=resume, progress=not as_json)
    report_training(result, as_json)


@train_app.command("denoise")
@user_errors_exit_2
def train_denoise(
    pairs: Annotated[tuple[Path, Path] | None, typer.Option(
        help="Two folders matched by file name: low-dose and high-dose images (or, with --kind noise2noise, "
             "first and second exposures).")] = None,
    data: Annotated[Path | None, typer.Option(help="Instead of --pairs: a store of noisy/clean pairs, e.g. from `dosewise simulate`.")] = None,
    kind: Annotated[str, typer.Option(
        help="paired (low/high dose, Katsuno et al. 2022), noise2noise, or simulated (with --data)."
    )] = "paired",
    extra_noise: Annotated[tuple[float, float] | None, typer.Option(
        help="Re-noise the clean images of --data at a dose drawn in [A, B] e-/px per sample.")] = None,
    model: Annotated[str, typer.Option(help="Registry model name (see `dosewise models`).")] = "resnet18-unet",
    epochs: Annotated[int | None, typer.Option(help="Number of epochs.")] = None,
    minutes: Annotated[float | None, typer.Option(help="Wall-clock budget in minutes.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Batch size.")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate.")] = None,
    crop: Annotated[int | None, typer.Option(
        help="Random crop size (default: whole frames, as Katsuno et al. 2022).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (pairs store, checkpoints, logs).")] = Path("runs/denoise"),
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from <out>/checkpoints/last.ckpt when present.")] = True,
    as_json: JsonFlag = False,
) -> None:
    """Train a denoiser: paired low/high dose, Noise2Noise exposure pairs, or simulated pairs."""
    from dosewise.data.pair_store import build_pair_store
    from dosewise.training import train
    from dosewise.training.denoise import denoise_config

    if (pairs is None) == (data is None):
        raise InvalidParameterError("give either --pairs LOW_DIR HIGH_DIR or --data STORE")
    if kind not in ("paired", "noise2noise", "simulated"):
        raise InvalidParameterError(f"--kind must be paired, noise2noise or simulated, got {kind!r}")
    if pairs is not None:
        if kind == "simulated":
            raise InvalidParameterError("--kind simulated reads a store: use --data")
        store = build_pair_store(pairs[0], pairs[1], out / "pairs.zarr", kind=kind).path
    else:
        store = data
    if crop is None:
        from dosewise.data.pair_store import check_same_shapes
        from dosewise.io import DatasetStore

        opened = DatasetStore.open(store)
        check_same_shapes(opened, opened.ids())
    overrides: dict[str, Any] = {key: str(value) if isinstance(value, Path) else value for key, value in {
        "epochs": epochs, "max_minutes": minutes, "batch_size": batch_size, "out_dir": out,
        "device": device, "seed": seed}.items() if value is not None}
    if lr is not None:
        overrides["optimiser"] = {"lr": lr}
    config = denoise_config(store, kind=kind, model=model, crop_px=crop, extra_noise_dose_e_per_px=extra_noise,
                            overrides=overrides)
    report_training(train(config, resume=resume, progress=not as_json), as_json)
