"""``dosewise dose-study``: seed 003's dose-limit experiments as one resumable recipe.

A study simulates the training sets its runs need (one per dose range x detector preset,
all sharing one set of structures whose exit waves are computed once), trains each run's
segmentation network, simulates one common dose series with exact masks, sweeps every
trained model over it and writes, per figure group, the seed-003-style figure and a table
of 50 % and convergence doses next to the seed's values.

``scale`` picks one of ``scales``: the data size, epochs, time budget and any model
options that differ between a 2-core CPU and a GPU. Everything else is the same recipe.
Every step resumes: stores are completed, finished runs (``done.json``) are not retrained.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from rich.console import Console

from dosewise.analysis.dose_series import load_dose_series
from dosewise.analysis.dose_sweep import DEFAULT_BAND_TOLERANCE, DoseSweep
from dosewise.config import DoseSeriesConfig, HrtemDatasetConfig
from dosewise.errors import InvalidParameterError
from dosewise.infer.dose_sweep import sweep_model
from dosewise.io import atomic_write
from dosewise.models import ModelConfig
from dosewise.simulate import simulate_dose_series, simulate_hrtem_dataset
from dosewise.tasks.checkpoint import load_model
from dosewise.tasks.config import (
    DataConfig,
    OptimiserConfig,
    TrainConfig,
    describe_validation_error,
    read_yaml_mapping,
)
from dosewise.tasks.train import train

Range = tuple[float, float]


class StudyScale(BaseModel):
    """How big one scale of the study is (data, training length, per-model option overrides)."""

    model_config = ConfigDict(extra="forbid")

    structures: int = Field(ge=2)
    variants_per_structure: int = Field(ge=1)
    size_px: int = Field(ge=32)
    epochs: int = Field(ge=1)
    max_minutes: float | None = Field(default=None, gt=0)
    batch_size: int = Field(default=8, ge=1)
    crop_size: int = Field(default=256, ge=16)
    series_frames: int = Field(default=20, ge=2)
    workers: int = Field(default=1, ge=1)
    model_options: dict[str, dict[str, Any]] = Field(default_factory=dict)


class StudyRun(BaseModel):
    """One network trained on one simulated training set."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    model: str
    dose_range_e_per_A2: Range = (1e2, 1e6)
    mtf: str = "mtf4"
    options: dict[str, Any] = Field(default_factory=dict)
    lr: float | None = Field(default=None, gt=0)  # None: the study's lr

    @property
    def data_key(self) -> str:
        low, high = self.dose_range_e_per_A2
        return f"{self.mtf}_{low:g}-{high:g}".replace("+", "")


class StudySeries(BaseModel):
    """The common test series: one structure, fixed optics, frame dose rising log-spaced."""

    model_config = ConfigDict(extra="forbid")

    dose_range_e_per_A2: Range = (10.0, 1e4)
    mtf: str = "mtf3"
    seed: int = 1000


class StudyFigure(BaseModel):
    """A group of runs shown together (one seed figure or table)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""
    runs: list[str] = Field(min_length=1)


class DoseStudyConfig(BaseModel):
    """A dose-limit study; see docs/dose_limits.md."""

    model_config = ConfigDict(extra="forbid")

    name: str = "dose-study"
    out_dir: Path = Path("runs/dose-study")
    report_dir: Path | None = None  # the small outputs of out_dir/report (figures, tables, CSVs) copied here
    scale: str = "auto"  # a key of ``scales``; "auto": "gpu" when CUDA is available, else "cpu"
    scales: dict[str, StudyScale]
    pixel_size_A: float | Range = 0.25
    max_sampling_A: float = Field(default=0.1, gt=0)  # exit-wave grid; coarser is faster and blurrier
    diameter_range_A: Range = (15.0, 50.0)
    seed: int = 0
    lr: float = Field(default=1e-3, gt=0)  # seed 003: Adam, lr 0.001
    threshold: float = Field(default=0.5, gt=0, lt=1)
    band_tolerance: float = Field(default=DEFAULT_BAND_TOLERANCE, gt=0, lt=1)
    device: str = "auto"
    precision: Literal["32", "16-mixed", "bf16-mixed"] = "32"
    series: StudySeries = Field(default_factory=StudySeries)
    runs: list[StudyRun] = Field(min_length=1)
    figures: list[StudyFigure] = Field(default_factory=list)
    seed_values: dict[str, str] = Field(default_factory=dict)  # run name -> what seed 003 reports

    @model_validator(mode="after")
    def _consistent(self) -> DoseStudyConfig:
        names = [r.name for r in self.runs]
        if len(set(names)) != len(names):
            raise ValueError("run names must be unique")
        for figure in self.figures:
            unknown = sorted(set(figure.runs) - set(names))
            if unknown:
                raise ValueError(f"figure {figure.name!r} names unknown runs {unknown}")
        if self.scale != "auto" and self.scale not in self.scales:
            raise ValueError(f"scale {self.scale!r} is not one of {sorted(self.scales)} (or 'auto')")
        if self.scale == "auto" and not {"cpu", "gpu"} <= set(self.scales):
            raise ValueError("scale 'auto' needs scales named 'cpu' and 'gpu'")
        return self

    @classmethod
    def from_yaml(cls, path: str | Path) -> DoseStudyConfig:
        raw = read_yaml_mapping(path)
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise InvalidParameterError(describe_validation_error(exc), path) from exc

    def resolved_scale(self) -> tuple[str, StudyScale]:
        name = self.scale
        if name == "auto":
            name = "gpu" if torch.cuda.is_available() else "cpu"
        return name, self.scales[name]


@dataclass
class StudyResult:
    out_dir: Path
    scale: str
    sweeps: dict[str, DoseSweep]
    tables: dict[str, Path]
    figures: dict[str, Path]


def training_config(config: DoseStudyConfig, run: StudyRun, scale: StudyScale, store: Path) -> TrainConfig:
    """The segmentation recipe of one run at one scale."""
    options = {**scale.model_options.get(run.model, {}), **run.options}
    return TrainConfig(
        task="segment",
        model=ModelConfig(name=run.model, options=options),
        data=DataConfig(store=store, crop_size=min(scale.crop_size, scale.size_px), val_fraction=0.1),
        optimiser=OptimiserConfig(lr=run.lr or config.lr),
        epochs=scale.epochs,
        max_minutes=scale.max_minutes,
        batch_size=scale.batch_size,
        precision=config.precision,
        device=config.device,
        checkpoint_every_n_epochs=max(1, min(5, scale.epochs)),
        out_dir=config.out_dir / "runs" / run.name,
        seed=config.seed,
        threshold=config.threshold,
    )


def run_study(config: DoseStudyConfig, *, console: Console | None = None, progress: bool = True) -> StudyResult:
    """Simulate, train, sweep and report; every step resumes."""
    console = console or Console(stderr=True)
    scale_name, scale = config.resolved_scale()
    out = Path(config.out_dir)
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]{config.name}[/]: scale {scale_name} ({scale.structures} structures x "
                  f"{scale.variants_per_structure} variants of {scale.size_px} px, {scale.epochs} epochs"
                  + (f" or {scale.max_minutes} min" if scale.max_minutes else "") + " per run)")
    stores: dict[str, Path] = {}
    for run in config.runs:
        if run.data_key in stores:
            continue
        store = data_dir / f"train_{run.data_key}.zarr"
        console.print(f"simulating training set {run.data_key}")
        simulation = HrtemDatasetConfig.validate_dict({
            "n_structures": scale.structures, "variants_per_structure": scale.variants_per_structure,
            "size_px": scale.size_px, "pixel_size_A": config.pixel_size_A,
            "dose_range_e_per_A2": run.dose_range_e_per_A2, "mtf": run.mtf, "seed": config.seed,
            "max_sampling_A": config.max_sampling_A, "diameter_range_A": config.diameter_range_A})
        simulate_hrtem_dataset(store, simulation, workers=scale.workers, structure_cache=data_dir / "exit_waves",
                               progress=progress)
        stores[run.data_key] = store
    series_path = data_dir / f"series_{config.series.mtf}.zarr"
    low, high = config.series.dose_range_e_per_A2
    console.print(f"simulating the common dose series ({scale.series_frames} frames, {low:g}-{high:g} e-/Å²)")
    series_pixel = config.pixel_size_A if isinstance(config.pixel_size_A, float) else float(np.mean(config.pixel_size_A))
    series_config = DoseSeriesConfig.validate_dict({
        "dose_range_e_per_A2": (low, high), "n_frames": scale.series_frames, "size_px": scale.size_px,
        "pixel_size_A": series_pixel, "mtf": config.series.mtf, "seed": config.series.seed,
        "max_sampling_A": config.max_sampling_A, "diameter_range_A": config.diameter_range_A})
    simulate_dose_series(series_path, series_config, progress=progress)
    series = load_dose_series(series_path)

    sweeps: dict[str, DoseSweep] = {}
    for run in config.runs:
        train_config = training_config(config, run, scale, stores[run.data_key])
        done = Path(train_config.out_dir) / "done.json"
        if not done.is_file():
            console.print(f"training {run.name} ({run.model}, {run.mtf}, {run.dose_range_e_per_A2[0]:g}-"
                          f"{run.dose_range_e_per_A2[1]:g} e-/Å²)")
            result = train(train_config, progress=progress)
            with atomic_write(done) as tmp:
                tmp.write_text(json.dumps({"best_checkpoint": str(result.best_checkpoint),
                                           "metrics": result.metrics}), encoding="utf-8")
        best = Path(json.loads(done.read_text(encoding="utf-8"))["best_checkpoint"])
        model = load_model(best)
        sweep = sweep_model(model, series, name=run.name, threshold=config.threshold,
                            band_tolerance=config.band_tolerance, device=config.device)
        sweep.sweep.metadata.update({"model": run.model, "mtf": run.mtf,
                                     "train_dose_range_e_per_A2": list(run.dose_range_e_per_A2),
                                     "best_val_dice": _best_val_dice(done)})
        sweeps[run.name] = sweep.sweep
    return _report(config, scale_name, scale, sweeps, series_path)


def _best_val_dice(done: Path) -> float | None:
    value = json.loads(done.read_text(encoding="utf-8")).get("metrics", {}).get("val/dice")
    return None if value is None else float(value)


def _fmt(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.3g}"


def _fmt_50(sweep: DoseSweep) -> str:
    """'≤ d' when the lowest frame already reaches 50 %: the true 50 % dose lies below the series."""
    value = sweep.dose_50_e_per_A2
    if value is not None and value <= float(sweep.doses_e_per_A2.min()):
        return f"≤ {value:.3g}"
    return _fmt(value)


def study_markdown(config: DoseStudyConfig, scale_name: str, scale: StudyScale, sweeps: dict[str, DoseSweep],
                   run_names: list[str]) -> str:
    runs = {r.name: r for r in config.runs}
    lines = [
        f"Scale `{scale_name}`: {scale.structures} structures x {scale.variants_per_structure} variants of "
        f"{scale.size_px} px per training set, {scale.epochs} epochs"
        + (f" (at most {scale.max_minutes:g} min)" if scale.max_minutes else "") + " per run; threshold "
        f"{config.threshold}; band ±{config.band_tolerance:.0%}; series {config.series.mtf}, "
        f"{config.series.dose_range_e_per_A2[0]:g}-{config.series.dose_range_e_per_A2[1]:g} e-/Å².",
        "",
        "| run | model | MTF | train dose (e-/Å²) | val Dice | 50 % area at (e-/Å²) | converged from (e-/Å²) "
        "| area / target, last frame | mean F1 | F1 ≤ 100 e-/Å² | F1, last frame | seed 003 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in run_names:
        sweep, run = sweeps[name], runs[name]
        low_f1 = [f.f1 for f in sweep.frames if f.f1 is not None and f.dose_e_per_A2 <= 100]
        summary = sweep.summary()
        dice = summary.get("best_val_dice")
        lines.append(
            f"| {name} | {run.model} | {run.mtf} | {run.dose_range_e_per_A2[0]:g}-{run.dose_range_e_per_A2[1]:g} | "
            f"{'-' if dice is None else f'{dice:.3f}'} | {_fmt_50(sweep)} | "
            f"{_fmt(sweep.convergence_dose_e_per_A2)} | {sweep.frames[-1].area_fraction:.2f} | "
            f"{summary.get('mean_f1', float('nan')):.3f} | {np.mean(low_f1) if low_f1 else float('nan'):.3f} | "
            f"{summary.get('final_f1', float('nan')):.3f} | {config.seed_values.get(name, '')} |")
    return "\n".join(lines) + "\n"


def _report(config: DoseStudyConfig, scale_name: str, scale: StudyScale, sweeps: dict[str, DoseSweep],
            series_path: Path) -> StudyResult:
    from dosewise.report.dose_sweep_figure import dose_sweep_figure
    from dosewise.report.figures import save_png

    figures = config.figures or [StudyFigure(name="all", runs=[r.name for r in config.runs])]
    target = Path(config.out_dir) / "report"
    target.mkdir(parents=True, exist_ok=True)
    tables: dict[str, Path] = {}
    figure_paths: dict[str, Path] = {}
    written = [sweep.write_csv(target / f"sweep_{name}.csv") for name, sweep in sweeps.items()]
    for figure in figures:
        chosen = [sweeps[n] for n in figure.runs]
        figure_paths[figure.name] = save_png(target / f"{figure.name}.png",
                                             dose_sweep_figure(chosen, title=figure.title or figure.name))
        text = f"## {figure.title or figure.name}\n\n" + study_markdown(config, scale_name, scale, sweeps,
                                                                         figure.runs)
        tables[figure.name] = target / f"{figure.name}.md"
        with atomic_write(tables[figure.name]) as tmp:
            tmp.write_text(text, encoding="utf-8")
    summary = target / "summary.json"
    with atomic_write(summary) as tmp:
        tmp.write_text(json.dumps({"scale": scale_name, "series": str(series_path),
                                   "sweeps": [s.summary() for s in sweeps.values()]}, indent=2), encoding="utf-8")
    if config.report_dir is not None:
        copy_dir = Path(config.report_dir)
        copy_dir.mkdir(parents=True, exist_ok=True)
        for path in [*written, *figure_paths.values(), *tables.values(), summary]:
            with atomic_write(copy_dir / path.name) as tmp:
                shutil.copyfile(path, tmp)
    return StudyResult(out_dir=Path(config.out_dir), scale=scale_name, sweeps=sweeps, tables=tables,
                       figures=figure_paths)


def check_scale(config: DoseStudyConfig, scale: str | None) -> DoseStudyConfig:
    """The config with ``scale`` replaced (the CLI's ``--scale``)."""
    if scale is None:
        return config
    if scale != "auto" and scale not in config.scales:
        raise InvalidParameterError(f"--scale must be one of {sorted(config.scales)} or auto, got {scale!r}")
    return config.model_copy(update={"scale": scale})
