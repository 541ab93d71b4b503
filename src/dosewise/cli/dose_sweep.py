"""``dosewise dose-sweep``: how low can the dose go for a segmentation model
(Larsen et al. 2023; the work is in :mod:`dosewise.workflows.dose_sweep`), and
``dosewise dose-study``, the experiments of that paper end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dosewise.cli.common import JsonFlag, OverwriteFlag, console, emit_json
from dosewise.units import DoseUnit


def format_dose(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.3g}"


def sweep_table(summaries: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for column in ("model", "50 % area at (e-/Å²)", "converged from (e-/Å²)", "mean F1"):
        table.add_column(column, justify="right")
    for s in summaries:
        f1 = f"{s['mean_f1']:.3f}" if "mean_f1" in s else "-"
        at_first = s["dose_50_e_per_A2"] is not None and s["dose_50_e_per_A2"] <= s["dose_min_e_per_A2"]
        label = f"{s['name']} ({s['series']})" if "series" in s else s["name"]
        table.add_row(label, ("≤ " if at_first else "") + format_dose(s["dose_50_e_per_A2"]), format_dose(s["convergence_dose_e_per_A2"]), f1)
    return table


def dose_sweep_command(
    series: Annotated[Path, typer.Argument(help="Dose series: a store from `dosewise simulate dose-series`, "
                                                 "a multi-frame file, or a folder of frames (name order).")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).")],
    model: Annotated[list[Path] | None, typer.Option(
        help="Segmentation checkpoint or shipped model; repeat to compare models (default: hrtem, the shipped "
             "HRTEM Au segmenter).")] = None,
    name: Annotated[list[str] | None, typer.Option(help="Label of each --model in tables and figures.")] = None,
    doses: Annotated[str | None, typer.Option(
        help="Frame doses 'd1,d2,...' or a file with one per line (overrides metadata).")] = None,
    dose_unit: Annotated[DoseUnit, typer.Option(help="Unit of --doses: e/A2 or e/px.")] = DoseUnit.per_A2,
    pixel_size: Annotated[float | None, typer.Option(help="Pixel size in Å/px (overrides the file's).")] = None,
    threshold: Annotated[float | None, typer.Option(help="Probability threshold (default: the model's).")] = None,
    band_tolerance: Annotated[float, typer.Option(
        help="Converged band: areas within this fraction of the converged area.")] = 0.1,
    overlay_dose: Annotated[list[float] | None, typer.Option(
        help="Write overlays of the frame nearest this dose (e-/Å²); repeat. Default: lowest, 50 % dose, highest.")] = None,
    store_key: Annotated[str, typer.Option(help="Which array of a store holds the frames.")] = "noisy",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda[:N].")] = "auto",
    overwrite: OverwriteFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Segmented area (and F1 with true masks) against frame dose; the 50 % and convergence doses."""
    from dosewise.workflows.dose_sweep import dose_sweep_files

    result = dose_sweep_files(series, model, out_dir, names=name, doses=doses, dose_unit=dose_unit,
                              pixel_size_A=pixel_size, threshold=threshold, band_tolerance=band_tolerance,
                              overlay_doses=overlay_dose, store_key=store_key, device=device, overwrite=overwrite)
    if as_json:
        emit_json(result.to_dict())
        return
    console.print(sweep_table(result.sweeps, f"dose sweep of {series.name} ({result.frames} frames)"))
    console.print(f"wrote {result.figure}, summary.json, per-model CSVs and overlays to {out_dir}")


def dose_study_command(
    recipe: Annotated[Path, typer.Argument(
        help="Study recipe (YAML), e.g. configs/dose-limit-larsen2023.yaml.")],
    scale: Annotated[str | None, typer.Option(
        help="Which of the recipe's scales to run (cpu, gpu, ... or auto: gpu when CUDA is available).")] = None,
    out_dir: Annotated[Path | None, typer.Option("-o", "--out", help="Override the recipe's out_dir.")] = None,
    report_dir: Annotated[Path | None, typer.Option(help="Also copy figures and tables here.")] = None,
    structure_cache: Annotated[Path | None, typer.Option(
        help="Folder of cached exit waves to use and fill, e.g. a campaign's (/work/campaign-hrtem-seg/exit_waves): "
             "the same structures are then never simulated twice.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The experiments of Larsen et al. 2023 end to end: simulate, train every run, sweep them on
    the test series, report."""
    from dosewise.config import DoseStudyConfig
    from dosewise.experiments.dose_study import check_scale, run_study

    config = check_scale(DoseStudyConfig.from_yaml(
        recipe, {"out_dir": out_dir, "report_dir": report_dir, "structure_cache": structure_cache}), scale)
    result = run_study(config, progress=not as_json)
    summaries = [s.summary() for per_series in result.sweeps.values() for s in per_series]
    if as_json:
        emit_json({"out": str(result.out_dir), "scale": result.scale, "sweeps": summaries,
                   "tables": {k: str(v) for k, v in result.tables.items()},
                   "figures": {k: str(v) for k, v in result.figures.items()}})
        return
    console.print(sweep_table(summaries, f"{config.name} (scale {result.scale})"))
    console.print(f"tables and figures: {', '.join(str(p) for p in result.figures.values())}")
