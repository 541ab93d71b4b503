"""``dosewise train``: supervised training recipes from a YAML config, flags, or both."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dosewise.cli.common import JsonFlag, recipe_mapping, report_training
from dosewise.config.choices import PairKind
from dosewise.errors import InvalidParameterError

train_app = typer.Typer(help="Train networks: segmentation and denoising, on one resumable training spine.",
                        no_args_is_help=True)

DEFAULT_SEGMENTER = "unet-2-44"


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
    from dosewise.config import TrainConfig, apply_overrides
    from dosewise.training import train

    if data is None and masks is not None:
        raise InvalidParameterError("--masks needs --data (the folder of images)")
    drop = []
    source = None
    if data is not None:  # --data (and --masks) replace the recipe's data source
        drop += ["data.store", "data.images_dir", "data.masks_dir"]
        source = {"images_dir": data, "masks_dir": masks} if masks is not None else {"store": data}
    if model is not None:  # --model replaces the recipe's model section
        drop.append("model")
    raw = recipe_mapping(config, {"task": "segment", "data": source,
                                  "model": {"name": model} if model is not None else None}, drop=drop)
    if "data" not in raw:
        raise InvalidParameterError("no training data: give --data (and --masks for image folders) or --config")
    raw.setdefault("model", {"name": DEFAULT_SEGMENTER})
    raw = apply_overrides(raw, {"epochs": epochs, "batch_size": batch_size, "out_dir": out, "device": device,
                                "seed": seed, "optimiser": {"lr": lr}, "data": {"crop_px": crop}})
    result = train(TrainConfig.validate_dict(raw, config), resume=resume, progress=not as_json)
    report_training(result, as_json)


def train_denoise(
    pairs: Annotated[tuple[Path, Path] | None, typer.Option(
        help="Two folders matched by file name: low-dose and high-dose images (or, with --kind noise2noise, "
             "first and second exposures).")] = None,
    data: Annotated[Path | None, typer.Option(help="Instead of --pairs: a store of noisy/clean pairs, e.g. from `dosewise simulate`.")] = None,
    kind: Annotated[PairKind, typer.Option(
        help="paired (low/high dose, Katsuno et al. 2022), noise2noise, or simulated (with --data)."
    )] = PairKind.paired,
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
    if pairs is not None:
        if kind is PairKind.simulated:
            raise InvalidParameterError("--kind simulated reads a store: use --data")
        store = build_pair_store(pairs[0], pairs[1], out / "pairs.zarr", kind=kind.value).path
    else:
        store = data
    if crop is None:
        from dosewise.data.pair_store import check_same_shapes
        from dosewise.io import DatasetStore

        opened = DatasetStore.open(store)
        check_same_shapes(opened, opened.ids())
    overrides = {"epochs": epochs, "max_minutes": minutes, "batch_size": batch_size, "out_dir": out,
                 "device": device, "seed": seed, "optimiser": {"lr": lr}}
    config = denoise_config(store, kind=kind, model=model, crop_px=crop, extra_noise_dose_e_per_px=extra_noise,
                            overrides=overrides)
    report_training(train(config, resume=resume, progress=not as_json), as_json)
