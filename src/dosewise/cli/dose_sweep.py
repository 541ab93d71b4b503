"""``dosewise dose-sweep``: how low can the dose go for a segmentation model
(Larsen et al. 2023)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dosewise.cli.common import JsonFlag, console, emit_json, user_errors_exit_2
from dosewise.errors import InvalidParameterError, OutputFileError


def _names(models: list[Path], names: list[str] | None) -> list[str]:
    if names:
        if len(names) != len(models):
            raise InvalidParameterError(f"{len(names)} --name for {len(models)} --model: give one name per model")
        chosen = list(names)
    else:
        chosen = [m.parent.parent.name if m.parent.name == "checkpoints" else m.stem for m in models]
    if len(set(chosen)) != len(chosen):
        chosen = [f"{n}-{i}" for i, n in enumerate(chosen)]
    return chosen


def format_dose(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.3g}"


def sweep_table(summaries: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for column in ("model", "50 % area at (e-/Å²)", "converged from (e-/Å²)", "mean F1"):
        table.add_column(column, justify="right")
    for s in summaries:
        f1 = f"{s['mean_f1']:.3f}" if "mean_f1" in s else "-"
        at_first = s["dose_50_e_per_A2"] is not None and s["dose_50_e_per_A2"] <= s["dose_min_e_per_A2"]
        table.add_row(s["name"], ("≤ " if at_first else "") + format_dose(s["dose_50_e_per_A2"]), format_dose(s["convergence_dose_e_per_A2"]), f1)
    return table


@user_errors_exit_2
def dose_sweep_command(
    series: Annotated[Path, typer.Argument(help="Dose series: a store from `dosewise simulate dose-series`, "
                                                 "a multi-frame file, or a folder of frames (name order).")],
    model: Annotated[list[Path], typer.Option(help="Segmentation checkpoint; repeat to compare models.")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).")],
    name: Annotated[list[str] | None, typer.Option(help="Label of each --model in tables and figures.")] = None,
    doses: Annotated[str | None, typer.Option(
        help="Frame doses 'd1,d2,...' or a file with one per line (overrides metadata).")] = None,
    dose_unit: Annotated[str, typer.Option(help="Unit of --doses: e/A2 or e/px.")] = "e/A2",
    pixel_size: Annotated[float | None, typer.Option(help="Pixel size in Å/px (overrides the file's).")] = None,
    threshold: Annotated[float | None, typer.Option(help="Probability threshold (default: the model's).")] = None,
    band_tolerance: Annotated[float, typer.Option(
        help="Converged band: areas within this fraction of the converged area.")] = 0.1,
    overlay_dose: Annotated[list[float] | None, typer.Option(
        help="Write overlays of the frame nearest this dose (e-/Å²); repeat. Default: lowest, 50 % dose, highest.")] = None,
    store_key: Annotated[str, typer.Option(help="Which array of a store holds the frames.")] = "noisy",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda[:N].")] = "auto",
    as_json: JsonFlag = False,
) -> None:
    """Segmented area (and F1 with true masks) against frame dose; the 50 % and convergence doses."""
    from dosewise.analysis.dose_series import load_dose_series, parse_doses
    from dosewise.checkpoint import load_model
    from dosewise.infer.dose_sweep import sweep_model
    from dosewise.io import atomic_write
    from dosewise.report.dose_sweep_figure import dose_sweep_figure, overlay_figure
    from dosewise.report.style import save_png

    labels = _names(model, name)
    data = load_dose_series(series, doses=parse_doses(doses) if doses else None, dose_unit=dose_unit,
                            pixel_size_A=pixel_size, store_key=store_key)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFileError("exists and is not a folder", out_dir)
    loaded = [load_model(path) for path in model]
    runs = [sweep_model(m, data, name=label, threshold=threshold, band_tolerance=band_tolerance, device=device)
            for m, label in zip(loaded, labels)]
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for label, run in zip(labels, runs):
        files[f"{label}.csv"] = str(run.sweep.write_csv(out_dir / f"sweep_{label}.csv"))
        reference = data.true_masks if data.true_masks is not None else [run.masks[int(data.doses_e_per_A2.argmax())]] * len(data)
        wanted = overlay_dose or [float(data.doses_e_per_A2.min()), run.sweep.dose_50_e_per_A2,
                                  float(data.doses_e_per_A2.max())]
        for dose in sorted({data.nearest_frame(d) for d in wanted if d is not None}):
            title = f"{label}, {data.doses_e_per_A2[dose]:.3g} e-/Å² (cyan: {run.sweep.target_source})"
            path = out_dir / f"overlay_{label}_{data.doses_e_per_A2[dose]:.3g}.png"
            save_png(path, overlay_figure(data.frames[dose], run.masks[dose], reference[dose], title),
                     inputs=[series])
            files[path.name] = str(path)
    sweeps = [r.sweep for r in runs]
    figure = save_png(out_dir / "dose_sweep.png", dose_sweep_figure(sweeps, title=f"dose sweep of {series.name}"),
                      inputs=[series])
    summaries = [s.summary() for s in sweeps]
    with atomic_write(out_dir / "summary.json") as tmp:
        tmp.write_text(json.dumps({"series": str(series), "models": [str(m) for m in model], "sweeps": summaries},
                                  indent=2), encoding="utf-8")
    report = {"series": str(series), "frames": len(data), "out": str(out_dir), "figure": str(figure),
              "summary": str(out_dir / "summary.json"), "sweeps": summaries, "files": files}
    if as_json:
        emit_json(report)
        return
    console.print(sweep_table(summaries, f"dose sweep of {series.name} ({len(data)} frames)"))
    console.print(f"wrote {figure}, summary.json, per-model CSVs and overlays to {out_dir}")


@user_errors_exit_2
def dose_study_command(
    recipe: Annotated[Path, typer.Argument(
        help="Study recipe (YAML), e.g. configs/dose-limit-larsen2023.yaml.")],
    scale: Annotated[str | None, typer.Option(
        help="Which of the recipe's scales to run (cpu, gpu, ... or auto: gpu when CUDA is available).")] = None,
    out_dir: Annotated[Path | None, typer.Option("-o", "--out", help="Override the recipe's out_dir.")] = None,
    report_dir: Annotated[Path | None, typer.Option(help="Also copy figures and tables here.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The experiments of Larsen et al. 2023 end to end: simulate, train every run, sweep them on
    one series, report."""
    from dosewise.config import DoseStudyConfig
    from dosewise.experiments.dose_study import check_scale, run_study

    config = check_scale(DoseStudyConfig.from_yaml(recipe), scale)
    updates = {k: v for k, v in {"out_dir": out_dir, "report_dir": report_dir}.items() if v is not None}
    config = config.model_copy(update=updates)
    result = run_study(config, progress=not as_json)
    summaries = [s.summary() for s in result.sweeps.values()]
    if as_json:
        emit_json({"out": str(result.out_dir), "scale": result.scale, "sweeps": summaries,
                   "tables": {k: str(v) for k, v in result.tables.items()},
                   "figures": {k: str(v) for k, v in result.figures.items()}})
        return
    console.print(sweep_table(summaries, f"{config.name} (scale {result.scale})"))
    console.print(f"tables and figures: {', '.join(str(p) for p in result.figures.values())}")
