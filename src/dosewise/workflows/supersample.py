"""The Python faces of ``dosewise supersample`` (fill in partial STEM scans of files, with a
comparison figure each) and ``dosewise evaluate supersample`` (Ede 2020's tables and figures
for trained generators against the classical baselines).

They exist so that a notebook plans, runs and writes exactly what the commands do;
:class:`dosewise.infer.supersample.Supersampler` and
:func:`dosewise.analysis.supersample_eval.evaluate_supersampling` are the steps they call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dosewise.analysis.interpolation import baseline_methods, interpolate_partial
from dosewise.analysis.supersample_eval import (
    TABLE_STEPS,
    SupersampleEvaluation,
    evaluate_supersampling,
    load_eval_images,
    precision_markdown,
    precision_table,
)
from dosewise.errors import InvalidParameterError, OutputFileError
from dosewise.infer.supersample import Supersampler, default_supersampler_path, full_grid
from dosewise.io import atomic_write, expand_inputs, output_group, processing_record, provenance, read_image, read_mask, write_image
from dosewise.physics.partial_scan import parse_coverage, partial_scan
from dosewise.report.style import save_png
from dosewise.report.supersample_figure import edge_curve_figure, supersample_figure
from dosewise.workflows._batch import FailedInput, run_batch
from dosewise.workflows._output import Existing, check_out_dir, inputs_to_run, prepare_out_dir, refuse_existing


def coverage_steps(coverages: Sequence[str | float] | None) -> list[int] | None:
    """The scan steps s of coverages 1/s² ('1/25', '0.04' or 25), sorted and distinct; ``None``
    when none are given."""
    return None if not coverages else sorted({parse_coverage(c) for c in coverages})


def split_sources(paths: Sequence[str | Path]) -> tuple[list[str], list[str]]:
    """Folder trees of image files (and image files) apart from stores (``*.zarr`` folders)."""
    paths = [Path(p) for p in paths]
    stores = [str(p) for p in paths if p.suffix == ".zarr"]
    folders = [str(p) for p in paths if p.suffix != ".zarr"]
    return folders, stores


@dataclass(frozen=True)
class SupersampledFile:
    """One filled-in scan: where it went, its comparison figure, the network's trust (the weight
    of its correction to bilinear, from held-out probes; ``None`` on irregular masks) and, for a
    preview of a full scan (``from_full``), the RMSE (over the image's range) of the network
    and of bilinear."""

    image: Path
    output: Path
    shape: tuple[int, int]
    figure: Path
    trust: float | None = None
    rmse_network: float | None = None
    rmse_bilinear: float | None = None

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"image": str(self.image), "output": str(self.output), "trust": self.trust}
        if self.rmse_network is not None:
            row["rmse_network"] = self.rmse_network
            row["rmse_bilinear"] = self.rmse_bilinear
        row.update({"shape": list(self.shape), "figure": str(self.figure)})
        return row


@dataclass(frozen=True)
class SupersampleResult:
    """What :func:`supersample_files` wrote, with which checkpoint."""

    model: Path
    out_dir: Path
    images: list[SupersampledFile] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    """Inputs left out because their outputs were there (``existing="skip"``)."""
    failed: list[FailedInput] = field(default_factory=list)
    """Inputs that could not be read or used, each with its one-line reason."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dosewise supersample --json``."""
        return {"model": str(self.model), "out": str(self.out_dir), "images": [i.to_dict() for i in self.images],
                "skipped": [str(p) for p in self.skipped], "failed": [f.to_dict() for f in self.failed]}


def supersample_files(
    images: Sequence[str | Path],
    out_dir: str | Path,
    model: str | Path | None = None,
    *,
    mask: str | Path | None = None,
    coverage: str | float | None = None,
    offset: tuple[int, int] = (0, 0),
    from_full: bool = False,
    tile_px: int = 256,
    overlap_px: int = 64,
    device: str = "auto",
    signal: str | int | None = None,
    existing: Existing | str = Existing.refuse,
    progress: bool = False,
) -> SupersampleResult:
    """Fill in partial scans with the checkpoint ``model`` (``dosewise train supersample``; by
    default the shipped one): ``out_dir/<name>_supersampled.tif`` (float32) and a comparison
    PNG per image, each with the trust the network earned on the scan's held-out probes.

    Give either ``mask`` (full-grid sampling mask, non-zero = measured; the images are
    full-grid partial scans) or ``coverage`` (the images are the small images of kept probe
    positions, ``offset`` on the full grid; the output is step times larger). With
    ``from_full`` the images are full scans, sub-sampled first and compared. An input that
    cannot be read or used is left out and listed in ``failed`` (the batch goes on).
    """
    images = expand_inputs(images)
    out_dir = Path(out_dir)
    model = Path(model) if model is not None else default_supersampler_path()
    if (mask is None) == (coverage is None):
        raise InvalidParameterError("give either --mask MASK (full-grid scans) or --coverage C (small scans)")
    if from_full and coverage is None:
        raise InvalidParameterError("--from-full needs --coverage")
    step = parse_coverage(coverage) if coverage is not None else None
    known_grid = None
    if mask is not None:
        known_grid = read_mask(mask) > 0
    outputs: dict[Path, Path] = {}
    for path in images:
        output = out_dir / f"{path.stem}_supersampled.tif"
        if output in outputs:
            raise OutputFileError(f"{outputs[output]} and {path} would both be written here; rename one", output)
        if path.exists() and output.exists() and path.resolve() == output.resolve():
            raise OutputFileError(f"refusing to overwrite input file {path}", output)
        outputs[output] = path
    run = set(inputs_to_run({path: [output, output.with_suffix(".png")] for output, path in outputs.items()},
                            existing))
    supersampler = Supersampler(model, device=device, tile_px=tile_px, overlap_px=overlap_px)
    prepare_out_dir(out_dir)

    def supersample_one(planned: tuple[Path, Path]) -> SupersampledFile:
        output, path = planned
        image = read_image(path, frame=0, signal=signal)
        data = image.data
        panels: dict[str, np.ndarray] = {}
        rmse_network = rmse_bilinear = None
        if known_grid is not None:
            if known_grid.shape != data.shape:
                raise InvalidParameterError(f"mask shape {known_grid.shape} differs from the image's {data.shape}", path)
            filled = supersampler.fill(data, known_grid)
            panels["partial scan (measured pixels)"] = np.where(known_grid, data, np.nan)
        else:
            assert step is not None
            if from_full:
                scan = partial_scan(data, step, offset)
                samples, shape = scan.samples, data.shape
                panels["full scan"] = data
            else:
                samples, shape = data, (data.shape[0] * step, data.shape[1] * step)
            filled = supersampler.fill(*full_grid(samples, step, offset, shape))
            bilinear = interpolate_partial(samples, step, shape, offset, "bilinear")
            panels[f"partial scan 1/{step**2} (nearest)"] = interpolate_partial(samples, step, shape, offset, "nearest")
            panels["bilinear"] = bilinear
            if from_full:
                span = float(np.ptp(data)) or 1.0
                rmse_network = float(np.sqrt(np.mean((filled.image - data) ** 2)) / span)
                rmse_bilinear = float(np.sqrt(np.mean((bilinear - data) ** 2)) / span)
        panels["dosewise"] = filled.image
        record = processing_record("supersample", model, coverage=None if step is None else f"1/{step * step}",
                                   offset_px=list(offset), trust=filled.trust)
        full_pixel_A = image.pixel_size_A if step is None or from_full or image.pixel_size_A is None \
            else image.pixel_size_A / step  # a small scan of probes: the full grid is step times finer
        write_image(output, filled.image, inputs=images, pixel_size_A=full_pixel_A,
                    metadata=provenance(image.metadata, path, record))
        figure = save_png(output.with_suffix(".png"), supersample_figure(panels, path.name))
        return SupersampledFile(image=path, output=output, shape=tuple(filled.image.shape), figure=figure,
                                trust=filled.trust, rmse_network=rmse_network, rmse_bilinear=rmse_bilinear)

    written, failed = run_batch([(o, p) for o, p in outputs.items() if p in run], supersample_one,
                                path_of=lambda planned: planned[1], description="supersampling", progress=progress)
    return SupersampleResult(model=model, out_dir=out_dir, images=written,
                             skipped=[path for path in outputs.values() if path not in run], failed=failed)


@dataclass(frozen=True)
class SupersampleReport:
    """What :func:`evaluate_supersamplers` measured (``evaluation``) and wrote (``files``);
    ``precision``: Ede 2020's Table 3 for the first model, when one was given."""

    images: int
    evaluation: SupersampleEvaluation
    files: dict[str, Path]
    precision: dict[str, dict[str, float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dosewise evaluate supersample --json``."""
        report: dict[str, Any] = {"images": self.images, "rows": self.evaluation.rows(),
                                  "files": {k: str(v) for k, v in self.files.items()}}
        if self.precision is not None:
            report["precision"] = self.precision
        return report


def evaluate_supersamplers(
    data: Sequence[str | Path],
    out_dir: str | Path,
    *,
    models: Sequence[str | Path] = (),
    coverages: Sequence[str | float] | None = None,
    store_key: str = "noisy",
    crop_px: int | None = None,
    max_images: int | None = None,
    target_blur_sigma_px: float = 2.5,
    precision_coverage: str | float = "1/25",
    device: str = "auto",
    progress: Callable[[str], None] | None = None,
    overwrite: bool = False,
) -> SupersampleReport:
    """Ede 2020's Table 2 (root mean / root std of MSE per coverage) for the checkpoints
    ``models`` and the classical baselines on the full scans ``data`` (image files, folder
    trees or ``*.zarr`` stores), the error against distance from the edge (Fig. 8) and, for
    the first model, the input-precision table (Table 3), written into ``out_dir``.
    ``progress`` hears the name of each method evaluated. The files appear together; a report
    already in ``out_dir`` is refused unless ``overwrite``."""
    out_dir = Path(out_dir)
    refuse_existing([out_dir / name for name in ("table.md", "table.csv", "edge_curve.csv", "edge_curve.png",
                                                 "precision.md")], overwrite)
    steps = coverage_steps(coverages) or list(TABLE_STEPS)
    folders, stores = split_sources(data)
    images = load_eval_images(folders, stores, store_key=store_key, crop_px=crop_px, max_images=max_images)
    methods = dict(baseline_methods())
    supersamplers = {}
    for path in map(Path, models):
        name = path.parent.parent.name if path.parent.name == "checkpoints" else path.stem
        supersamplers[name] = Supersampler(path, device=device)
        methods[name] = supersamplers[name].method()
    check_out_dir(out_dir)
    result = evaluate_supersampling(images, methods, steps, target_blur_sigma_px=target_blur_sigma_px,
                                    progress=progress)
    precision = table = None
    if supersamplers:
        step = parse_coverage(precision_coverage)
        first = next(iter(supersamplers.values()))
        table = precision_table(images, first.method(), step, target_blur_sigma_px=target_blur_sigma_px)
        precision = {k: {"root_mean_mse": v[0], "root_std_mse": v[1]} for k, v in table.items()}
    with output_group():
        paths = result.write(out_dir)
        paths["edge_curve.png"] = save_png(out_dir / "edge_curve.png", edge_curve_figure(result))
        if table is not None:
            with atomic_write(out_dir / "precision.md") as tmp:
                tmp.write_text(precision_markdown(table, step), encoding="utf-8")
    return SupersampleReport(images=len(images), evaluation=result, files=paths, precision=precision)
