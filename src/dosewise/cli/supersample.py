"""``dosewise train supersample``, ``dosewise supersample`` and ``dosewise evaluate supersample``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from dosewise.cli.common import JsonFlag, console, emit_json, report_training, user_errors_exit_2
from dosewise.errors import InvalidParameterError, OutputFileError

evaluate_app = typer.Typer(help="Measure trained models against classical baselines.", no_args_is_help=True)

CoverageOption = Annotated[
    list[str] | None,
    typer.Option("--coverage", help="Coverage 1/s^2 ('1/25', '0.04' or 25); repeat for several."),
]


def parse_steps(coverages: list[str] | None) -> list[int] | None:
    from dosewise.physics.partial_scan import parse_coverage

    return None if not coverages else sorted({parse_coverage(c) for c in coverages})


def _split_sources(paths: list[Path]) -> tuple[list[str], list[str]]:
    """Stores (``*.zarr`` folders) apart from folder trees of image files."""
    stores = [str(p) for p in paths if p.suffix == ".zarr"]
    folders = [str(p) for p in paths if p.suffix != ".zarr"]
    return folders, stores


@user_errors_exit_2
def train_supersample(
    data: Annotated[list[Path] | None, typer.Option(
        help="Full STEM scans: a folder tree of images (any format) or a store from `dosewise simulate stem`; "
             "repeat for several.")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML recipe (flags below override its values).")] = None,
    model: Annotated[str | None, typer.Option(help="two-stage (every coverage, default) or one-stage (one coverage).")] = None,
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
    from dosewise.cli.train import load_yaml_mapping
    from dosewise.config import SupersampleConfig
    from dosewise.training.supersample import train_supersampler

    raw = load_yaml_mapping(config)
    section: dict[str, Any] = dict(raw.get("data") or {})
    if data:
        section["folders"], section["stores"] = _split_sources(data)
    steps = parse_steps(coverage)
    if steps is not None:
        section["steps"] = steps
    if crop is not None:
        section["crop_px"] = crop
    if store_key is not None:
        section["store_key"] = store_key
    if not section.get("folders") and not section.get("stores"):
        raise InvalidParameterError("no training data: give --data FOLDER_OR_STORE or --config")
    raw["data"] = section
    if model is not None:
        if model not in ("two-stage", "one-stage"):
            raise InvalidParameterError(f"--model must be two-stage or one-stage, got {model!r}")
        raw["model"] = {"kind": model}
    if (raw.get("model") or {}).get("kind") == "one-stage":
        if len(section.get("steps") or []) != 1:
            raise InvalidParameterError("a one-stage generator serves one coverage: give exactly one --coverage")
        raw["model"] = {**raw["model"], "step": section["steps"][0]}
    overrides = {"epochs": epochs, "max_minutes": minutes, "batch_size": batch_size, "lr": lr,
                 "out_dir": out, "device": device, "seed": seed}
    raw.update({k: str(v) if isinstance(v, Path) else v for k, v in overrides.items() if v is not None})
    settings = SupersampleConfig.validate_dict(raw, config)
    report_training(train_supersampler(settings, resume=resume, progress=not as_json), as_json)


@user_errors_exit_2
def supersample_command(
    images: Annotated[list[Path], typer.Argument(help="Partial scans (or, with --from-full, full scans) in any readable format.")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).")],
    model: Annotated[Path, typer.Option(help="Checkpoint written by `dosewise train supersample`.")],
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
    as_json: JsonFlag = False,
) -> None:
    """Fill in partial STEM scans: <name>_supersampled.tif (float32) and a comparison PNG per image."""
    from dosewise.analysis.interpolation import interpolate_partial
    from dosewise.infer.supersample import Supersampler
    from dosewise.io import read_image, read_mask, write_image
    from dosewise.physics.partial_scan import parse_coverage, partial_scan
    from dosewise.report.style import save_png
    from dosewise.report.supersample_figure import supersample_figure

    if (mask is None) == (coverage is None):
        raise InvalidParameterError("give either --mask MASK (full-grid scans) or --coverage C (small scans)")
    if from_full and coverage is None:
        raise InvalidParameterError("--from-full needs --coverage")
    step = parse_coverage(coverage) if coverage is not None else None
    known_grid = None
    if mask is not None:
        known_grid = read_mask(mask) > 0
    outputs = {}
    for path in images:
        output = out_dir / f"{path.stem}_supersampled.tif"
        if output in outputs:
            raise OutputFileError(f"{outputs[output]} and {path} would both be written here; rename one", output)
        if path.exists() and output.exists() and path.resolve() == output.resolve():
            raise OutputFileError(f"refusing to overwrite input file {path}", output)
        outputs[output] = path
    supersampler = Supersampler(model, device=device, tile_px=tile, overlap_px=overlap)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFileError("exists and is not a folder", out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for output, path in outputs.items():
        image = read_image(path, frame=0)
        data = image.data
        panels: dict[str, np.ndarray] = {}
        row: dict[str, Any] = {"image": str(path), "output": str(output)}
        if known_grid is not None:
            if known_grid.shape != data.shape:
                raise InvalidParameterError(f"mask shape {known_grid.shape} differs from the image's {data.shape}", path)
            result = supersampler(data, known_grid)
            panels["partial scan (measured pixels)"] = np.where(known_grid, data, np.nan)
        else:
            assert step is not None
            if from_full:
                scan = partial_scan(data, step, offset)
                samples, shape = scan.samples, data.shape
                panels["full scan"] = data
            else:
                samples, shape = data, (data.shape[0] * step, data.shape[1] * step)
            result = supersampler.from_samples(samples, step, offset, shape)
            bilinear = interpolate_partial(samples, step, shape, offset, "bilinear")
            panels[f"partial scan 1/{step**2} (nearest)"] = interpolate_partial(samples, step, shape, offset, "nearest")
            panels["bilinear"] = bilinear
            if from_full:
                span = float(np.ptp(data)) or 1.0
                row["rmse_network"] = float(np.sqrt(np.mean((result - data) ** 2)) / span)
                row["rmse_bilinear"] = float(np.sqrt(np.mean((bilinear - data) ** 2)) / span)
        panels["dosewise"] = result
        write_image(output, result, inputs=images, pixel_size_A=image.pixel_size_A)
        figure = save_png(output.with_suffix(".png"), supersample_figure(panels, path.name))
        row.update({"shape": list(result.shape), "figure": str(figure)})
        rows.append(row)
    if as_json:
        emit_json({"model": str(model), "out": str(out_dir), "images": rows})
        return
    table = Table(title=f"supersampled with {model.name}")
    for column in ("image", "size", "output", "RMSE net / bilinear"):
        table.add_column(column)
    for row in rows:
        ratio = (f"{row['rmse_network']:.4f} / {row['rmse_bilinear']:.4f}" if "rmse_network" in row else "")
        table.add_row(Path(row["image"]).name, "x".join(map(str, row["shape"])), Path(row["output"]).name, ratio)
    console.print(table)
    console.print(f"wrote {len(rows)} image(s) and comparison PNGs to {out_dir}")


@evaluate_app.command("supersample")
@user_errors_exit_2
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
    as_json: JsonFlag = False,
) -> None:
    """Ede 2020's Table 2 (root mean / root std of MSE per coverage), error vs distance from the
    edge (Fig. 8) and, for the first model, the input-precision table (Table 3)."""
    from dosewise.report.style import save_png
    from dosewise.report.supersample_figure import edge_curve_figure
    from dosewise.analysis.interpolation import baseline_methods
    from dosewise.analysis.supersample_eval import (
        TABLE_STEPS,
        evaluate_supersampling,
        load_eval_images,
        precision_markdown,
        precision_table,
    )
    from dosewise.infer.supersample import Supersampler
    from dosewise.io import atomic_write
    from dosewise.physics.partial_scan import parse_coverage

    steps = parse_steps(coverage) or list(TABLE_STEPS)
    folders, stores = _split_sources(data)
    images = load_eval_images(folders, stores, store_key=store_key, crop_px=crop, max_images=max_images)
    methods = dict(baseline_methods())
    supersamplers = {}
    for path in model or []:
        name = path.parent.parent.name if path.parent.name == "checkpoints" else path.stem
        supersamplers[name] = Supersampler(path, device=device)
        methods[name] = supersamplers[name].method()
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFileError("exists and is not a folder", out_dir)
    with console.status("evaluating") as status:
        result = evaluate_supersampling(images, methods, steps, target_blur_sigma_px=target_blur,
                                        progress=lambda name: status.update(f"evaluated {name}"))
    paths = result.write(out_dir)
    paths["edge_curve.png"] = save_png(out_dir / "edge_curve.png", edge_curve_figure(result))
    report: dict[str, Any] = {"images": len(images), "rows": result.rows(),
                              "files": {k: str(v) for k, v in paths.items()}}
    if supersamplers:
        step = parse_coverage(precision_coverage)
        first = next(iter(supersamplers.values()))
        table = precision_table(images, first.method(), step, target_blur_sigma_px=target_blur)
        with atomic_write(out_dir / "precision.md") as tmp:
            tmp.write_text(precision_markdown(table, step), encoding="utf-8")
        report["precision"] = {k: {"root_mean_mse": v[0], "root_std_mse": v[1]} for k, v in table.items()}
    if as_json:
        emit_json(report)
        return
    console.print(result.markdown())
    console.print(f"wrote {', '.join(p.name for p in paths.values())} to {out_dir}")
