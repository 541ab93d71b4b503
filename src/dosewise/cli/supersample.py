"""``dosewise train supersample``, ``dosewise supersample`` and ``dosewise evaluate supersample``
(the work of the last two is in :mod:`dosewise.workflows.supersample`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dosewise.cli.common import (
    JsonFlag,
    OverwriteFlag,
    SignalOption,
    SkipExistingFlag,
    console,
    emit_json,
    exit_if_failed,
    recipe,
    report_training,
)
from dosewise.config.choices import SupersamplerKind
from dosewise.errors import InvalidParameterError

evaluate_app = typer.Typer(help="Measure trained models against classical baselines.", no_args_is_help=True)

CoverageOption = Annotated[
    list[str] | None,
    typer.Option("--coverage", help="Coverage 1/s^2 ('1/25', '0.04' or 25); repeat for several."),
]


def train_supersample(
    data: Annotated[list[Path] | None, typer.Option(
        help="Full STEM scans: a folder tree of images (any format) or a store from `dosewise simulate stem`; "
             "repeat for several.")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML recipe (flags below override its values).")] = None,
    model: Annotated[SupersamplerKind | None, typer.Option(
        help="two-stage (every coverage, default), one-stage (one coverage) or residual-unet "
             "(a correction to exact bilinear, every coverage).")] = None,
    coverage: CoverageOption = None,
    epochs: Annotated[int | None, typer.Option(help="Number of epochs.")] = None,
    minutes: Annotated[float | None, typer.Option(help="Wall-clock budget in minutes.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Batch size.")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate.")] = None,
    crop: Annotated[int | None, typer.Option(help="Training crop size in pixels.")] = None,
    store_key: Annotated[str | None, typer.Option(help="Which array of a store is the full scan.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (checkpoints, logs, curves).")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from <out>/checkpoints/last.ckpt when present.")] = True,
    as_json: JsonFlag = False,
) -> None:
    """Train a partial-scan supersampler (Ede 2020's learning policy); resumable."""
    from dosewise.config import SupersampleConfig
    from dosewise.training.supersample import train_supersampler
    from dosewise.workflows.supersample import coverage_steps, split_sources

    if not data and config is None:
        raise InvalidParameterError("no training data: give --data FOLDER_OR_STORE or --config")
    folders, stores = split_sources(data) if data else (None, None)
    steps = coverage_steps(coverage)
    generator = None
    if model is not None:
        generator = {"name": model.model_name, "in_channels": 2}
        if model is SupersamplerKind.one_stage:
            if steps is None or len(steps) != 1:
                raise InvalidParameterError("a one-stage generator serves one coverage: give exactly one --coverage")
            generator["options"] = {"step": steps[0]}
    overrides = {
        "data": {"folders": folders, "stores": stores, "steps": steps, "crop_px": crop, "store_key": store_key},
        "model": generator, "epochs": epochs, "max_minutes": minutes, "batch_size": batch_size,
        "optimiser": {"lr": lr}, "out_dir": out, "device": device, "seed": seed,
    }
    settings = recipe(SupersampleConfig, config, overrides)
    report_training(train_supersampler(settings, resume=resume, progress=not as_json), as_json)


def supersample_command(
    images: Annotated[list[Path], typer.Argument(help="Partial scans (or, with --from-full, full scans) in any readable format.")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).")],
    model: Annotated[Path | None, typer.Option(
        help="Checkpoint written by `dosewise train supersample`; default: the shipped supersampler "
             "(model card: dosewise/weights/supersample-default.md).")] = None,
    mask: Annotated[Path | None, typer.Option(
        help="Full-grid sampling mask (non-zero = measured); the images are full-grid partial scans.")] = None,
    coverage: Annotated[str | None, typer.Option(
        help="Without --mask: the images are the small images of kept probe positions at this coverage "
             "('1/25'); the output is step times larger.")] = None,
    offset: Annotated[tuple[int, int], typer.Option(help="Lattice offset (row, column) of the first probe on the full grid.")] = (0, 0),
    from_full: Annotated[bool, typer.Option(
        help="With --coverage: the images are full scans; sub-sample them first and compare (a preview of what "
             "a partial scan would give).")] = False,
    tile: Annotated[int, typer.Option(help="Tile size in pixels.")] = 256,
    overlap: Annotated[int, typer.Option(help="Tile overlap in pixels; half of it is discarded at inner tile edges.")] = 64,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda[:N].")] = "auto",
    signal: SignalOption = None,
    overwrite: OverwriteFlag = False,
    skip_existing: SkipExistingFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Fill in partial STEM scans: <name>_supersampled.tif (float32) and a comparison PNG per image."""
    from dosewise.workflows._output import existing_policy
    from dosewise.workflows.supersample import supersample_files

    result = supersample_files(images, out_dir, model, mask=mask, coverage=coverage, offset=offset,
                               from_full=from_full, tile_px=tile, overlap_px=overlap, device=device,
                               signal=signal, existing=existing_policy(overwrite, skip_existing), progress=True)
    attempted = len(result.images) + len(result.failed)
    if as_json:
        emit_json(result.to_dict())
        exit_if_failed(result.failed, attempted)
        return
    table = Table(title=f"supersampled with {result.model.name}")
    for column in ("image", "size", "output", "trust", "RMSE net / bilinear"):
        table.add_column(column)
    for row in result.images:
        ratio = f"{row.rmse_network:.4f} / {row.rmse_bilinear:.4f}" if row.rmse_network is not None else ""
        trust = f"{row.trust:.2f}" if row.trust is not None else "-"
        table.add_row(row.image.name, "x".join(map(str, row.shape)), row.output.name, trust, ratio)
    console.print(table)
    console.print(f"wrote {len(result.images)} image(s) and comparison PNGs to {out_dir}")
    console.print("trust: the weight of the network's correction to bilinear, measured on probes it was "
                  "not given (0: bilinear, 1: the network as trained)")
    exit_if_failed(result.failed, attempted)


def evaluate_supersample(
    data: Annotated[list[Path], typer.Option(
        help="Full scans to test on: image files, folder trees or stores (`*.zarr`); repeat for several.")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder for the tables and figures.")],
    model: Annotated[list[Path] | None, typer.Option(
        help="Checkpoint(s) of `dosewise train supersample`; none: the classical baselines only.")] = None,
    coverage: CoverageOption = None,
    store_key: Annotated[str, typer.Option(help="Which array of a store is the full scan.")] = "noisy",
    crop: Annotated[int | None, typer.Option(
        help="Central crop of larger images (Ede 2020: 512).")] = None,
    max_images: Annotated[int | None, typer.Option(help="Use at most this many images.")] = None,
    target_blur: Annotated[float, typer.Option(help="Target: the full scan blurred by a 5x5 Gaussian of this sigma in px (0: unblurred).")] = 2.5,
    precision_coverage: Annotated[str, typer.Option(
        help="Coverage of the input-precision table (Ede 2020, Table 3).")] = "1/25",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda[:N].")] = "auto",
    overwrite: OverwriteFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Ede 2020's Table 2 (root mean / root std of MSE per coverage), error vs distance from the
    edge (Fig. 8) and, for the first model, the input-precision table (Table 3)."""
    from dosewise.workflows.supersample import evaluate_supersamplers

    with console.status("evaluating") as status:
        report = evaluate_supersamplers(
            data, out_dir, models=model or (), coverages=coverage, store_key=store_key, crop_px=crop,
            max_images=max_images, target_blur_sigma_px=target_blur, precision_coverage=precision_coverage,
            device=device, progress=lambda name: status.update(f"evaluated {name}"), overwrite=overwrite)
    if as_json:
        emit_json(report.to_dict())
        return
    console.print(report.evaluation.markdown())
    console.print(f"wrote {', '.join(p.name for p in report.files.values())} to {out_dir}")
