"""``dosewise pretrain``, ``dosewise finetune`` and ``dosewise compare`` (Kazimi et al. 2024 and
the Kazimi et al. abstract)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dosewise.cli.common import (
    JsonFlag,
    choice_or_text,
    console,
    emit_json,
    recipe,
    recipe_mapping,
    report_training,
)
from dosewise.config.choices import Downstream, Pretext
from dosewise.data.corruptions import CorruptionKind

DEFAULT_GENERATOR = "unet-2-44"


def pretrain_command(
    data: Annotated[list[Path] | None, typer.Argument(
        help="Folders of unlabeled micrographs (any readable format, searched recursively) and/or "
             "stores from `dosewise simulate`.", show_default=False)] = None,
    config: Annotated[Path | None, typer.Option(help="YAML recipe (flags override its values).")] = None,
    pretext: Annotated[Pretext | None, typer.Option(
        help="gan (Pix2Pix, Kazimi et al. 2024) or dae (denoising autoencoder, "
             "the Kazimi et al. abstract).")] = None,
    model: Annotated[str | None, typer.Option(help="Generator: a registry model name (see `dosewise models`).")] = None,
    corruption: Annotated[CorruptionKind | None, typer.Option(
        help="classic (noise + blur), poisson, or physical (detector model).")] = None,
    max_images: Annotated[int | None, typer.Option(help="Pretraining-set size: a seeded subset of the images found.")] = None,
    crop: Annotated[int | None, typer.Option(help="Random crop size in pixels.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Number of epochs.")] = None,
    minutes: Annotated[float | None, typer.Option(help="Wall-clock budget in minutes (stops early).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Batch size.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (checkpoints, logs, curves).")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from <out>/checkpoints/last.ckpt when present.")] = True,
    as_json: JsonFlag = False,
) -> None:
    """Pretrain a generator without labels; its best checkpoint initialises `dosewise finetune`."""
    from dosewise.config import PretrainConfig
    from dosewise.io.store import is_store
    from dosewise.training import pretrain

    stores = [p for p in data if is_store(p)] if data else None
    folders = [p for p in data if not is_store(p)] if data else None
    overrides = {
        "data": {"stores": stores, "folders": folders, "max_images": max_images, "crop_px": crop},
        "corruption": {"kind": corruption}, "model": {"name": model} if model is not None else None,
        "pretext": pretext, "epochs": epochs, "max_minutes": minutes, "batch_size": batch_size, "out_dir": out,
        "device": device, "seed": seed,
    }
    raw = recipe_mapping(config, overrides, drop=["model"] if model is not None else [])
    raw.setdefault("data", {})
    raw.setdefault("model", {"name": DEFAULT_GENERATOR})
    result = pretrain(PretrainConfig.validate_dict(raw, config), resume=resume, progress=not as_json)
    report_training(result, as_json)


def finetune_command(
    task: Annotated[Downstream, typer.Argument(
        help="segment, denoise, nbgr (noise & background removal) or superres.", parser=choice_or_text(Downstream))],
    data: Annotated[Path | None, typer.Option(help="Labelled store from `dosewise simulate` (hrtem, stem, particles).")] = None,
    images: Annotated[Path | None, typer.Option(
        help="segment: folder of your images (any readable format), instead of --data.")] = None,
    masks: Annotated[Path | None, typer.Option(
        help="segment: folder of their masks, matched by file name (a.tif <-> a_mask.png).")] = None,
    val_images: Annotated[Path | None, typer.Option(
        help="Validation images (with --val-masks); without them a fifth of --images validates.")] = None,
    val_masks: Annotated[Path | None, typer.Option(help="Masks of --val-images.")] = None,
    class_id: Annotated[int | None, typer.Option(
        help="Learn this label of the masks (colour masks: 1 = red, 2 = green, 3 = blue); default every non-zero label.")] = None,
    init: Annotated[str, typer.Option(
        help="pretrained (the weights dosewise ships for --model), random, or a checkpoint file.")] = "pretrained",
    model: Annotated[str | None, typer.Option(
        help="Registry model (default: the one in --init, hrnet for the shipped weights).")] = None,
    max_train: Annotated[int | None, typer.Option(help="Use only this many labelled training images.")] = None,
    repeats: Annotated[int | None, typer.Option(
        help="Random crops per training image per epoch (default 1; a few large images want 8-32).")] = None,
    epochs: Annotated[int | None, typer.Option(
        help="Number of epochs (default 60, as Kazimi et al. 2024).")] = None,
    minutes: Annotated[float | None, typer.Option(help="Wall-clock budget in minutes (stops early).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Batch size.")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate (default 2e-4).")] = None,
    crop: Annotated[int | None, typer.Option(help="Random crop size in pixels.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("runs/finetune"),
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from <out>/checkpoints/last.ckpt when present.")] = True,
    as_json: JsonFlag = False,
) -> None:
    """Fine-tune for a downstream task from random or pretrained weights; reports what was transferred."""
    from dosewise.errors import InvalidParameterError
    from dosewise.training import train
    from dosewise.training.finetune import finetune_config

    folders = {"images_dir": images, "masks_dir": masks, "val_images_dir": val_images, "val_masks_dir": val_masks}
    if (data is None) == (images is None):
        raise InvalidParameterError("give either --data STORE or --images DIR --masks DIR")
    if images is not None and masks is None:
        raise InvalidParameterError("--images needs --masks (the folder of their masks)")
    if data is not None and any(v is not None for v in (masks, val_images, val_masks)):
        raise InvalidParameterError("--masks, --val-images and --val-masks go with --images, not --data")
    source = data if data is not None else {k: v for k, v in folders.items() if v is not None}
    overrides = {"epochs": epochs, "max_minutes": minutes, "batch_size": batch_size, "out_dir": out,
                 "device": device, "seed": seed, "optimiser": {"lr": lr},
                 "data": {"max_train_samples": max_train, "crop_px": crop, "class_id": class_id, "repeats": repeats}}
    train_config = finetune_config(task, source, init=init, model=model, overrides=overrides)
    start = train_config.init
    if not as_json:
        console.print(f"starting from {'random weights' if start is None else start}")
    result = train(train_config, resume=resume, progress=not as_json)
    transfer = None
    transfer_json = Path(train_config.out_dir) / "transfer.json"
    if start is not None and transfer_json.is_file():
        import json

        transfer = json.loads(transfer_json.read_text(encoding="utf-8"))
        if not as_json:
            console.print(
                f"transferred {len(transfer['transferred'])} tensors from {start}; new head: "
                f"{', '.join(transfer['head'])}; not transferred: "
                f"{len(transfer['missing']) + len(transfer['shape_mismatch'])} (see {transfer_json})")
    report_training(result, as_json, {"transfer_json": str(transfer_json) if transfer else None})


def compare_command(
    config: Annotated[Path, typer.Option(help="YAML grid: models, pretrain sizes, seeds, data (see docs/pretraining.md).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (overrides the YAML).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Random vs pretrained fine-tuning over a grid; tables in Kazimi et al. 2024's layout, curves,
    P - R."""
    from dosewise.config import CompareConfig
    from dosewise.experiments.compare import run_compare

    result = run_compare(recipe(CompareConfig, config, {"out_dir": out}), progress=not as_json)
    files = {"table_md": str(result.table_md), "table_csv": str(result.table_csv),
             "results_csv": str(result.results_csv), "curves_png": str(result.curves_png),
             "delta_md": str(result.delta_md)}
    if as_json:
        emit_json({"out_dir": str(result.out_dir), **files})
        return
    console.print(result.table_md.read_text(encoding="utf-8"))
    console.print(result.delta_md.read_text(encoding="utf-8"))
    console.print(f"curves: {files['curves_png']}")
