"""Supersampling error tables in Ede 2020's layouts: Table 2, Fig. 8 and Table 3.

Protocol (Ede 2020, §II-III): each image is scaled to [0, 1], sub-sampled at every s-th
probe position from the first pixel, filled in by each method, and compared with the
full image blurred by a 5x5 Gaussian of 2.5 px (Ede 2020's target). The statistics are
the root of the mean and the root of the standard deviation of the per-image MSEs.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dosewise.data.partial_scans import scale_to_unit
from dosewise.analysis.interpolation import BASELINES
from dosewise.data.unlabeled import Source, find_sources, read_source
from dosewise.errors import DosewiseError, InvalidParameterError
from dosewise.io import atomic_write
from dosewise.physics.partial_scan import PartialScan, blur_target, partial_scan

Method = Callable[[PartialScan], np.ndarray]
TABLE_STEPS: tuple[int, ...] = (4, 5, 6, 8, 10)  # Ede 2020, Table 2: 1/16, 1/25, 1/36, 1/64, 1/100
REFERENCE = "bilinear"


def _edge_distance(shape: tuple[int, int]) -> np.ndarray:
    """Each pixel's distance (px) to the nearest image border."""
    rows = np.minimum(np.arange(shape[0]), np.arange(shape[0])[::-1])
    cols = np.minimum(np.arange(shape[1]), np.arange(shape[1])[::-1])
    return np.minimum(rows[:, None], cols[None, :])


def _run(method: Method, name: str, scan: PartialScan) -> np.ndarray:
    output = np.asarray(method(scan), dtype=np.float64)
    if output.shape != scan.mask.shape or not np.isfinite(output).all():
        raise InvalidParameterError(
            f"method {name!r} returned shape {output.shape} (expected {scan.mask.shape}) or non-finite values"
        )
    return output


@dataclass
class SupersampleEvaluation:
    """Per-image MSEs for every (method, step) and per-distance squared-error sums."""

    steps: tuple[int, ...]
    methods: tuple[str, ...]
    target_blur_sigma_px: float
    mse: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    edge_sum: dict[str, np.ndarray] = field(default_factory=dict)
    edge_count: np.ndarray = field(default_factory=lambda: np.zeros(0))
    images: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, object]]:
        """Long format: one row per (method, coverage) with root mean / root std of the MSE."""
        out = []
        for method in self.methods:
            for step in self.steps:
                values = np.asarray(self.mse[(method, step)])
                row: dict[str, object] = {
                    "method": method, "coverage": f"1/{step**2}", "step": step,
                    "root_mean_mse": float(np.sqrt(values.mean())), "root_std_mse": float(np.sqrt(values.std())),
                    "n": len(values),
                }
                if REFERENCE in self.methods:
                    row["ratio_to_bilinear"] = row["root_mean_mse"] / float(  # type: ignore[operator]
                        np.sqrt(np.mean(self.mse[(REFERENCE, step)])))
                out.append(row)
        return out

    def edge_curve(self) -> dict[str, np.ndarray]:
        """Root MSE against distance from the image edge, pooled over images and coverages."""
        seen = self.edge_count > 0
        return {m: np.sqrt(self.edge_sum[m][seen] / self.edge_count[seen]) for m in self.methods}

    def markdown(self) -> str:
        by_key = {(r["method"], r["step"]): r for r in self.rows()}
        head = "| method | " + " | ".join(f"1/{s**2} mean | 1/{s**2} std dev" for s in self.steps) + " |"
        lines = [head, "|---|" + "---:|" * (2 * len(self.steps))]
        for method in self.methods:
            cells = [f"{by_key[(method, s)]['root_mean_mse']:.4f} | {by_key[(method, s)]['root_std_mse']:.4f}"
                     for s in self.steps]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        others = [m for m in self.methods if m not in BASELINES] if REFERENCE in self.methods else []
        if others:
            lines += ["", "Root mean MSE as a fraction of bilinear's:", "",
                      "| method | " + " | ".join(f"1/{s**2}" for s in self.steps) + " |",
                      "|---|" + "---:|" * len(self.steps)]
            for method in others:
                lines.append(f"| {method} | " + " | ".join(
                    f"{by_key[(method, s)]['ratio_to_bilinear']:.3f}" for s in self.steps) + " |")
        return "\n".join(lines) + "\n"

    def write(self, out_dir: Path, title: str = "Supersampling errors") -> dict[str, Path]:
        """table.md, table.csv and edge_curve.csv in ``out_dir`` (the edge curve's figure:
        :func:`dosewise.report.supersample_figure.edge_curve_figure`)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {name: out_dir / name for name in ("table.md", "table.csv", "edge_curve.csv")}
        blur = (f"blurred by a 5x5 Gaussian of {self.target_blur_sigma_px:g} px"
                if self.target_blur_sigma_px else "unblurred")
        intro = (f"# {title}\n\n{len(self.images)} images scaled to [0, 1]; target: the full image {blur}. "
                 "Root mean and root standard deviation of the per-image MSE "
                 "(Ede 2020, Table 2 layout).\n\n")
        with atomic_write(paths["table.md"]) as tmp:
            tmp.write_text(intro + self.markdown(), encoding="utf-8")
        rows = self.rows()
        with atomic_write(paths["table.csv"]) as tmp, open(tmp, "w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        curve = self.edge_curve()
        distances = np.flatnonzero(self.edge_count > 0)
        with atomic_write(paths["edge_curve.csv"]) as tmp, open(tmp, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["distance_from_edge_px", *self.methods])
            for i, distance in enumerate(distances):
                writer.writerow([int(distance), *(f"{curve[m][i]:.6g}" for m in self.methods)])
        return paths


def evaluate_supersampling(
    images: Sequence[tuple[str, np.ndarray]],
    methods: dict[str, Method],
    steps: Sequence[int] = TABLE_STEPS,
    *,
    offset: tuple[int, int] = (0, 0),
    target_blur_sigma_px: float = 2.5,
    progress: Callable[[str], None] | None = None,
) -> SupersampleEvaluation:
    """Every method on every image at every step; see the module doc for the protocol."""
    if not images or not methods:
        raise InvalidParameterError("evaluation needs at least one image and one method")
    max_side = max(max(image.shape) for _, image in images)
    result = SupersampleEvaluation(tuple(steps), tuple(methods), target_blur_sigma_px,
                                   edge_count=np.zeros(max_side))
    result.edge_sum = {m: np.zeros(max_side) for m in methods}
    for name, image in images:
        full = scale_to_unit(image)
        target = blur_target(full, target_blur_sigma_px).astype(np.float64)
        distance = _edge_distance(full.shape).ravel()
        for step in steps:
            scan = partial_scan(full, step, offset)
            result.edge_count += np.bincount(distance, minlength=max_side)[:max_side]
            for method_name, method in methods.items():
                error = (_run(method, method_name, scan) - target) ** 2
                result.mse.setdefault((method_name, step), []).append(float(error.mean()))
                result.edge_sum[method_name] += np.bincount(distance, weights=error.ravel(),
                                                            minlength=max_side)[:max_side]
        result.images.append(name)
        if progress is not None:
            progress(name)
    return result


def _cast(scan: PartialScan, precision: str) -> PartialScan:
    def cast(array: np.ndarray) -> np.ndarray:
        if precision == "8-bit int":
            return (np.round(np.clip(array, 0, 1) * 255).astype(np.uint8) / 255).astype(np.float32)
        if precision == "16-bit float":
            return array.astype(np.float16).astype(np.float32)
        return array.astype(np.float32)

    return PartialScan(cast(scan.samples), scan.mask, cast(scan.filled), scan.step, scan.offset)


PRECISIONS: tuple[str, ...] = ("8-bit int", "16-bit float", "32-bit float")


def precision_table(
    images: Sequence[tuple[str, np.ndarray]], method: Method, step: int = 5, *,
    target_blur_sigma_px: float = 2.5,
) -> dict[str, tuple[float, float]]:
    """Ede 2020, Table 3: the method's inputs typecast before it sees them; (root mean, root std)
    of the unclipped per-image MSE for each precision."""
    errors: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    for _, image in images:
        full = scale_to_unit(image)
        target = blur_target(full, target_blur_sigma_px).astype(np.float64)
        scan = partial_scan(full, step)
        for precision in PRECISIONS:
            output = _run(method, precision, _cast(scan, precision))
            errors[precision].append(float(np.mean((output - target) ** 2)))
    return {p: (float(np.sqrt(np.mean(v))), float(np.sqrt(np.std(v)))) for p, v in errors.items()}


def precision_markdown(table: dict[str, tuple[float, float]], step: int) -> str:
    return "\n".join([
        f"Inputs typecast before a 1/{step**2} coverage network (Ede 2020, Table 3 layout):", "",
        "| | " + " | ".join(table) + " |", "|---|" + "---:|" * len(table),
        "| root mean MSE | " + " | ".join(f"{v[0]:.4f}" for v in table.values()) + " |",
        "| root std MSE | " + " | ".join(f"{v[1]:.4f}" for v in table.values()) + " |",
    ]) + "\n"


def load_eval_images(
    paths: Sequence[str | Path] = (),
    stores: Sequence[str | Path] = (),
    *,
    store_key: str = "noisy",
    crop_px: int | None = None,
    max_images: int | None = None,
    min_side_px: int = 40,
) -> list[tuple[str, np.ndarray]]:
    """Images to evaluate on: files, folder trees (any readable format) and store samples.

    The first frame of a stack; a central ``crop_px`` crop of larger images; images smaller
    than ``min_side_px`` (too few probes at 1/100) are skipped with a warning.
    """
    files = [Path(p) for p in paths if Path(p).is_file()]
    folders = [Path(p) for p in paths if not Path(p).is_file()]
    sources = list(find_sources(folders, stores, store_key=store_key)) if folders or stores else []
    sources = [Source(p) for p in files] + sources
    out: list[tuple[str, np.ndarray]] = []
    cache: dict[Path, object] = {}
    for source in sources[:max_images] if max_images else sources:
        try:
            image = np.asarray(read_source(source, cache), dtype=np.float32)  # type: ignore[arg-type]
        except DosewiseError as exc:
            warnings.warn(f"{source}: skipped: {exc}", stacklevel=2)
            continue
        if min(image.shape) < min_side_px:
            warnings.warn(f"{source}: skipped: {image.shape} is smaller than {min_side_px} px", stacklevel=2)
            continue
        if crop_px is not None and max(image.shape) > crop_px:
            top, left = max(0, (image.shape[0] - crop_px) // 2), max(0, (image.shape[1] - crop_px) // 2)
            image = image[top : top + crop_px, left : left + crop_px]
        name = source.path.stem if source.sample_id is None else f"{source.path.name}:{source.sample_id}"
        out.append((name, image))
    if not out:
        raise InvalidParameterError("no usable images to evaluate on")
    return out
