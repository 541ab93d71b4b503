"""``dosewise dose-study``: Larsen et al. 2023's dose-limit experiments as one resumable recipe.

A study simulates the training sets its runs need (one per dose range x detector preset,
all sharing one set of structures whose exit waves are computed once), trains each run's
segmentation network (or takes one trained elsewhere, such as a campaign's), simulates the
test dose series with exact masks (each seed another structure and other optics), sweeps every
model over every series and writes, per figure group, a figure in the style of Larsen et al.
2023 with the spread over the series and a table of 50 % and convergence doses next to the
paper's values.

``scale`` picks one of ``scales``: the data size, epochs, time budget and any model
options that differ between a 2-core CPU and a GPU. Everything else is the same recipe.
Every step resumes: stores are completed, finished runs (``done.json``) are not retrained.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console

from dosewise.analysis.dose_series import load_dose_series
from dosewise.analysis.dose_sweep import DoseSweep
from dosewise.checkpoint import LoadedModel, load_model
from dosewise.config import DoseSeriesConfig, HrtemDatasetConfig
from dosewise.config.experiments import DoseStudyConfig, StudyFigure, StudyRun, StudyScale, StudySeries
from dosewise.config.training import DataConfig, TrainConfig
from dosewise.device import resolve_device
from dosewise.errors import InvalidParameterError
from dosewise.infer.dose_sweep import sweep_model
from dosewise.io import atomic_write
from dosewise.models import ModelConfig
from dosewise.report.dose_sweep_figure import dose_study_figure
from dosewise.report.style import save_png
from dosewise.shipped import resolve_model
from dosewise.simulate import simulate_dose_series, simulate_hrtem_dataset
from dosewise.training.train import train

@dataclass
class StudyResult:
    out_dir: Path
    scale: str
    sweeps: dict[str, list[DoseSweep]]  # run name -> one sweep per test series
    tables: dict[str, Path]
    figures: dict[str, Path]


def training_config(config: DoseStudyConfig, run: StudyRun, scale: StudyScale, store: Path) -> TrainConfig:
    """The segmentation recipe of one run at one scale."""
    options = {**scale.model_options.get(run.model, {}), **run.options}
    return TrainConfig(
        task="segment",
        model=ModelConfig(name=run.model, options=options),
        data=DataConfig(store=store, crop_px=min(scale.crop_px, scale.size_px), val_fraction=0.1),
        optimiser=run.optimiser or config.optimiser,
        epochs=scale.epochs,
        max_minutes=scale.max_minutes,
        batch_size=scale.batch_size,
        precision=config.precision,
        device=config.device,
        checkpoint_every_n_epochs=max(1, min(5, scale.epochs)),
        out_dir=config.out_dir / "runs" / run.name,
        init=None if run.init is None else resolve_model(run.init, "segment"),
        seed=config.seed,
        threshold=config.threshold,
    )


def run_study(config: DoseStudyConfig, *, console: Console | None = None, progress: bool = True) -> StudyResult:
    """Simulate, train, sweep and report; every step resumes."""
    console = console or Console(stderr=True)
    scale_name, scale = resolved_scale(config)
    out = Path(config.out_dir)
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    cache = Path(config.structure_cache) if config.structure_cache is not None else data_dir / "exit_waves"
    console.print(f"[bold]{config.name}[/]: scale {scale_name} ({scale.structures} structures x "
                  f"{scale.variants_per_structure} variants of {scale.size_px} px, {scale.epochs} epochs"
                  + (f" or {scale.max_minutes} min" if scale.max_minutes else "") + " per run)")
    runs = config.runs_at(scale_name)
    stores: dict[str, Path] = {}
    for run in runs:
        if run.checkpoint is not None or run.data_key in stores:
            continue
        store = data_dir / f"train_{run.data_key}.zarr"
        console.print(f"simulating training set {run.data_key}")
        simulation = HrtemDatasetConfig.validate_dict({
            "n_structures": scale.structures, "variants_per_structure": scale.variants_per_structure,
            "size_px": scale.size_px, "pixel_size_A": config.pixel_size_A,
            "dose_range_e_per_A2": run.dose_range_e_per_A2, "mtf": run.mtf, "seed": config.seed,
            "max_sampling_A": config.max_sampling_A, "diameter_range_A": config.diameter_range_A})
        simulate_hrtem_dataset(store, simulation, workers=scale.workers, structure_cache=cache, progress=progress)
        stores[run.data_key] = store
    series = {s.key: load_dose_series(simulated_series(config, scale, s, data_dir, console, progress))
              for s in config.series}

    sweeps: dict[str, list[DoseSweep]] = {}
    for run in runs:
        model = load_model(trained_checkpoint(config, run, scale, stores, console, progress))
        sweeps[run.name] = []
        for key, frames in series.items():
            sweep = sweep_model(model, frames, name=run.name, threshold=config.threshold,
                                band_tolerance=config.band_tolerance, device=config.device).sweep
            sweep.metadata.update({"series": key, "model": run.model, "mtf": run.mtf,
                                   "train_dose_range_e_per_A2": list(run.dose_range_e_per_A2),
                                   "best_val_dice": swept_val_dice(model)})
            sweeps[run.name].append(sweep)
    return _report(config, scale_name, scale, runs, sweeps)


def simulated_series(config: DoseStudyConfig, scale: StudyScale, series: StudySeries, data_dir: Path,
                     console: Console, progress: bool) -> Path:
    """The store of one test series (simulated once; exact masks)."""
    path = data_dir / f"series_{series.key}.zarr"
    low, high = series.dose_range_e_per_A2
    console.print(f"simulating test series {series.key} ({scale.series_frames} frames, {low:g}-{high:g} e-/Å²)")
    pixel = config.pixel_size_A if isinstance(config.pixel_size_A, float) else float(np.mean(config.pixel_size_A))
    simulate_dose_series(path, DoseSeriesConfig.validate_dict({
        "dose_range_e_per_A2": (low, high), "n_frames": scale.series_frames, "size_px": scale.size_px,
        "pixel_size_A": pixel, "mtf": series.mtf, "seed": series.seed,
        "max_sampling_A": config.max_sampling_A, "diameter_range_A": config.diameter_range_A}), progress=progress)
    return path


def trained_checkpoint(config: DoseStudyConfig, run: StudyRun, scale: StudyScale, stores: dict[str, Path],
                       console: Console, progress: bool) -> Path:
    """The checkpoint a run sweeps: its given one, or its best after training (once)."""
    if run.checkpoint is not None:
        return resolve_model(run.checkpoint, "segment")
    train_config = training_config(config, run, scale, stores[run.data_key])
    done = Path(train_config.out_dir) / "done.json"
    if not done.is_file():
        start = f", from {run.init}" if run.init is not None else ""
        console.print(f"training {run.name} ({run.model}, {run.mtf}, {run.dose_range_e_per_A2[0]:g}-"
                      f"{run.dose_range_e_per_A2[1]:g} e-/Å²{start})")
        result = train(train_config, progress=progress)
        with atomic_write(done) as tmp:
            tmp.write_text(json.dumps({"best_checkpoint": str(result.best_checkpoint),
                                       "metrics": result.metrics}), encoding="utf-8")
    return Path(json.loads(done.read_text(encoding="utf-8"))["best_checkpoint"])


def swept_val_dice(model: LoadedModel) -> float | None:
    """Validation Dice of the checkpoint that is swept (``best.ckpt``'s own record).

    Not ``done.json``'s metrics: those are the last epoch's, and the last epoch is not
    the best one whenever validation Dice fell at the end of training.
    """
    value = model.metadata.get("metrics", {}).get("val/dice")
    return None if value is None else float(value)


def _fmt(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.3g}"


def _fmt_50(sweep: DoseSweep) -> str:
    """'≤ d' when the lowest frame already reaches 50 %: the true 50 % dose lies below the series."""
    value = sweep.dose_50_e_per_A2
    if value is not None and value <= float(sweep.doses_e_per_A2.min()):
        return f"≤ {value:.3g}"
    return _fmt(value)


def _spread(values: list[float]) -> str:
    """Mean ± standard deviation over the series (the value alone for one series)."""
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return "-"
    if len(finite) == 1:
        return f"{finite[0]:.2f}"
    return f"{np.mean(finite):.2f} ± {np.std(finite, ddof=1):.2f}"


def _low_dose_f1(sweep: DoseSweep) -> float:
    values = [f.f1 for f in sweep.frames if f.f1 is not None and f.dose_e_per_A2 <= 100]
    return float(np.mean(values)) if values else float("nan")


def study_markdown(config: DoseStudyConfig, scale_name: str, scale: StudyScale, runs: list[StudyRun],
                   sweeps: dict[str, list[DoseSweep]], run_names: list[str]) -> str:
    """One row per run; doses per series (``a / b / c``), scores as mean ± std over the series."""
    by_name = {r.name: r for r in runs}
    described = "; ".join(f"{s.key}, {s.dose_range_e_per_A2[0]:g}-{s.dose_range_e_per_A2[1]:g} e-/Å²"
                          for s in config.series)
    lines = [
        f"Scale `{scale_name}`: {scale.structures} structures x {scale.variants_per_structure} variants of "
        f"{scale.size_px} px per training set, {scale.epochs} epochs"
        + (f" (at most {scale.max_minutes:g} min)" if scale.max_minutes else "") + " per trained run; threshold "
        f"{config.threshold}; band ±{config.band_tolerance:.0%}; {len(config.series)} test series ({described}). "
        "Doses are given per series in that order; scores are mean ± std over the series.",
        "",
        "| run | model | MTF | train dose (e-/Å²) | start | val Dice | 50 % area at (e-/Å²) "
        "| converged from (e-/Å²) | area / target, last frame | mean F1 | F1 ≤ 100 e-/Å² "
        "| F1, last frame | Larsen et al. 2023 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in run_names:
        runs_sweeps, run = sweeps[name], by_name[name]
        summaries = [s.summary() for s in runs_sweeps]
        dice = summaries[0].get("best_val_dice")
        start = (f"as trained: `{run.checkpoint}`" if run.checkpoint is not None
                 else f"from `{run.init}`" if run.init is not None else "random")
        lines.append(
            f"| {name} | {run.model} | {run.mtf} | {run.dose_range_e_per_A2[0]:g}-{run.dose_range_e_per_A2[1]:g} | "
            f"{start} | {'-' if dice is None else f'{dice:.3f}'} | "
            f"{' / '.join(_fmt_50(s) for s in runs_sweeps)} | "
            f"{' / '.join(_fmt(s.convergence_dose_e_per_A2) for s in runs_sweeps)} | "
            f"{_spread([s.frames[-1].area_fraction for s in runs_sweeps])} | "
            f"{_spread([m.get('mean_f1', float('nan')) for m in summaries])} | "
            f"{_spread([_low_dose_f1(s) for s in runs_sweeps])} | "
            f"{_spread([m.get('final_f1', float('nan')) for m in summaries])} | {config.paper_values.get(name, '')} |")
    return "\n".join(lines) + "\n"


def _report(config: DoseStudyConfig, scale_name: str, scale: StudyScale, runs: list[StudyRun],
            sweeps: dict[str, list[DoseSweep]]) -> StudyResult:
    figures = config.figures or [StudyFigure(name="all", runs=[r.name for r in runs])]
    target = Path(config.out_dir) / "report"
    target.mkdir(parents=True, exist_ok=True)
    tables: dict[str, Path] = {}
    figure_paths: dict[str, Path] = {}
    written = [sweep.write_csv(target / f"sweep_{name}_{sweep.metadata['series']}.csv")
               for name, per_series in sweeps.items() for sweep in per_series]
    for figure in figures:
        chosen = {n: sweeps[n] for n in figure.runs}
        figure_paths[figure.name] = save_png(target / f"{figure.name}.png",
                                             dose_study_figure(chosen, title=figure.title or figure.name))
        text = f"## {figure.title or figure.name}\n\n" + study_markdown(config, scale_name, scale, runs, sweeps,
                                                                         figure.runs)
        tables[figure.name] = target / f"{figure.name}.md"
        with atomic_write(tables[figure.name]) as tmp:
            tmp.write_text(text, encoding="utf-8")
    summary = target / "summary.json"
    with atomic_write(summary) as tmp:
        tmp.write_text(json.dumps({"scale": scale_name, "series": [s.key for s in config.series],
                                   "sweeps": [s.summary() for per_series in sweeps.values() for s in per_series]},
                                  indent=2), encoding="utf-8")
    if config.report_dir is not None:
        copy_dir = Path(config.report_dir)
        copy_dir.mkdir(parents=True, exist_ok=True)
        for path in [*written, *figure_paths.values(), *tables.values(), summary]:
            with atomic_write(copy_dir / path.name) as tmp:
                shutil.copyfile(path, tmp)
    return StudyResult(out_dir=Path(config.out_dir), scale=scale_name, sweeps=sweeps, tables=tables,
                       figures=figure_paths)


def resolved_scale(config: DoseStudyConfig) -> tuple[str, StudyScale]:
    """The scale to run: the recipe's, or for ``auto`` ``gpu`` when CUDA is available."""
    name = config.scale
    if name == "auto":
        name = "gpu" if resolve_device("auto").type == "cuda" else "cpu"
    return name, config.scales[name]


def check_scale(config: DoseStudyConfig, scale: str | None) -> DoseStudyConfig:
    """The config with ``scale`` replaced (the CLI's ``--scale``)."""
    if scale is None:
        return config
    if scale != "auto" and scale not in config.scales:
        raise InvalidParameterError(f"--scale must be one of {sorted(config.scales)} or auto, got {scale!r}")
    return config.model_copy(update={"scale": scale})
