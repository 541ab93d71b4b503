"""The Python face of ``dosewise dose-sweep``: how low can the dose go for segmentation
models (Larsen et al. 2023), on one dose series, with every table and figure written.

It exists so that a notebook loads the series, sweeps every model and writes the
per-model CSVs, overlays, figure and summary exactly as the command does;
:func:`dosewise.infer.dose_sweep.sweep_model` is the per-model step it calls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dosewise.analysis.dose_series import DoseSeries, load_dose_series, parse_doses
from dosewise.checkpoint import load_model
from dosewise.errors import InvalidParameterError
from dosewise.infer.dose_sweep import sweep_model
from dosewise.io import atomic_write, output_group
from dosewise.report.dose_sweep_figure import dose_sweep_figure, overlay_figure
from dosewise.report.style import save_png
from dosewise.shipped import resolve_model, shipped_checkpoint
from dosewise.units import DoseUnit
from dosewise.workflows._output import check_out_dir, refuse_existing


def model_labels(models: Sequence[Path], names: Sequence[str] | None = None) -> list[str]:
    """One label per checkpoint: ``names`` when given, else the run folder of
    ``<run>/checkpoints/*.ckpt`` or the file's stem; repeated labels are numbered."""
    if names:
        if len(names) != len(models):
            raise InvalidParameterError(f"{len(names)} --name for {len(models)} --model: give one name per model")
        chosen = list(names)
    else:
        chosen = [m.parent.parent.name if m.parent.name == "checkpoints" else m.stem for m in models]
    if len(set(chosen)) != len(chosen):
        chosen = [f"{n}-{i}" for i, n in enumerate(chosen)]
    return chosen


@dataclass(frozen=True)
class DoseSweepResult:
    """The sweep summaries of :func:`dose_sweep_files` (one per model, as in summary.json)
    and the files written (``files``: per-model CSVs and overlays by name)."""

    series: Path
    frames: int
    out_dir: Path
    figure: Path
    summary: Path
    sweeps: list[dict[str, Any]]
    files: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dosewise dose-sweep --json``."""
        return {"series": str(self.series), "frames": self.frames, "out": str(self.out_dir),
                "figure": str(self.figure), "summary": str(self.summary), "sweeps": self.sweeps,
                "files": self.files}


def dose_sweep_files(
    series: str | Path,
    models: Sequence[str | Path] | None,
    out_dir: str | Path,
    *,
    names: Sequence[str] | None = None,
    doses: str | Sequence[float] | None = None,
    dose_unit: DoseUnit | str = DoseUnit.per_A2,
    pixel_size_A: float | None = None,
    threshold: float | None = None,
    band_tolerance: float = 0.1,
    overlay_doses: Sequence[float] | None = None,
    store_key: str = "noisy",
    device: str = "auto",
    overwrite: bool = False,
) -> DoseSweepResult:
    """Segmented area (and F1 with true masks) against frame dose for every checkpoint of
    ``models`` on the dose ``series`` (a store from ``dosewise simulate dose-series``, a
    multi-frame file, or a folder of frames in name order); the 50 % and convergence doses.
    ``models``: checkpoints or shipped names; none: the shipped HRTEM Au segmenter (``hrtem``).

    ``doses`` ('d1,d2,...', a file with one per line, or numbers, in ``dose_unit``)
    override the series' metadata. Overlays are drawn of the frames nearest
    ``overlay_doses`` (e-/Å²; default: lowest, 50 % dose, highest). The files appear together;
    a sweep's files already in ``out_dir`` are refused unless ``overwrite``.
    """
    series, out_dir = Path(series), Path(out_dir)
    models = [resolve_model(m, "segment") for m in models] if models else [shipped_checkpoint("hrtem", "segment")]
    labels = model_labels(models, names)
    if isinstance(doses, str):
        given = parse_doses(doses) if doses else None
    else:
        given = [float(d) for d in doses] if doses else None
    data = load_dose_series(series, doses=given, dose_unit=dose_unit, pixel_size_A=pixel_size_A,
                            store_key=store_key)
    check_out_dir(out_dir)
    refuse_existing([out_dir / "dose_sweep.png", out_dir / "summary.json",
                     *(out_dir / f"sweep_{label}.csv" for label in labels)], overwrite)
    loaded = [load_model(path) for path in models]
    runs = [sweep_model(m, data, name=label, threshold=threshold, band_tolerance=band_tolerance, device=device)
            for m, label in zip(loaded, labels)]
    out_dir.mkdir(parents=True, exist_ok=True)
    with output_group():
        return _write_sweep(series, models, labels, runs, data, out_dir, overlay_doses, overwrite)


def _write_sweep(series: Path, models: list[Path], labels: list[str], runs: list[Any], data: DoseSeries,
                 out_dir: Path, overlay_doses: Sequence[float] | None, overwrite: bool) -> DoseSweepResult:
    """Every file of one sweep: per model its table and overlays, the figure and the summary."""
    files: dict[str, str] = {}
    for label, run in zip(labels, runs):
        files[f"{label}.csv"] = str(run.sweep.write_csv(out_dir / f"sweep_{label}.csv"))
        reference = (data.true_masks if data.true_masks is not None
                     else [run.masks[int(data.doses_e_per_A2.argmax())]] * len(data))
        wanted = overlay_doses or [float(data.doses_e_per_A2.min()), run.sweep.dose_50_e_per_A2,
                                   float(data.doses_e_per_A2.max())]
        for dose in sorted({data.nearest_frame(d) for d in wanted if d is not None}):
            title = f"{label}, {data.doses_e_per_A2[dose]:.3g} e-/Å² (cyan: {run.sweep.target_source})"
            path = out_dir / f"overlay_{label}_{data.doses_e_per_A2[dose]:.3g}.png"
            refuse_existing([path], overwrite)  # its name needs the sweep; nothing is final yet
            save_png(path, overlay_figure(data.frames[dose], run.masks[dose], reference[dose], title),
                     inputs=[series])
            files[path.name] = str(path)
    sweeps = [r.sweep for r in runs]
    figure = save_png(out_dir / "dose_sweep.png", dose_sweep_figure(sweeps, title=f"dose sweep of {series.name}"),
                      inputs=[series])
    summaries = [s.summary() for s in sweeps]
    summary = out_dir / "summary.json"
    with atomic_write(summary) as tmp:
        tmp.write_text(json.dumps({"series": str(series), "models": [str(m) for m in models], "sweeps": summaries},
                                  indent=2), encoding="utf-8")
    return DoseSweepResult(series=series, frames=len(data), out_dir=out_dir, figure=figure, summary=summary,
                           sweeps=summaries, files=files)
