"""Partial-scan supersampling against OpenCV's interpolations (Ede 2020, Tables 2-3, Fig. 8).

    .venv/bin/python benchmarks/bench_supersample.py --model RUN/checkpoints/best.ckpt \
        [--one-stage RUN1/checkpoints/best.ckpt] [--sim-test /work/stem/test.zarr] [--repeats 10]

Held-out simulated ADF-STEM (a store from `dosewise simulate stem` with another seed than the
training store) and the real STEM images of ../shared/data/real/stem/ (central 512 px crops;
the author-made partial scan and its spiral mask are left out: they are not full scans).
Writes benchmarks/results/supersample.md (printed), supersample-*.csv and the figures.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import time
from pathlib import Path

import numpy as np
import torch

from dosewise.analysis.interpolation import baseline_methods, interpolate_partial
from dosewise.analysis.supersample_eval import (
    evaluate_supersampling,
    load_eval_images,
    precision_markdown,
    precision_table,
)
from dosewise.data.partial_scans import scale_to_unit
from dosewise.infer.supersample import Supersampler
from dosewise.physics.partial_scan import partial_scan
from dosewise.models.dlss import supersampler_step
from dosewise.report.style import save_png
from dosewise.report.supersample_figure import edge_curve_figure, supersample_figure

REPO = Path(__file__).resolve().parents[1]
REAL_STEM = REPO.parent / "shared" / "data" / "real" / "stem"
RESULTS = REPO / "benchmarks" / "results"
NOT_FULL_SCANS = ("partialstem__partial_scan", "partialstem__mask")


def real_files() -> list[Path]:
    return sorted(p for p in REAL_STEM.iterdir() if p.is_file() and not p.name.startswith(NOT_FULL_SCANS)
                  and p.suffix.lower() != ".md")


def speed(supersampler: Supersampler, repeats: int) -> tuple[float, float]:
    """Median ms per 512x512 frame at 1/25: network (tiled) and bilinear, interleaved."""
    image = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    scan = partial_scan(image, 5)
    times: dict[str, list[float]] = {"network": [], "bilinear": []}
    supersampler(scan.filled, scan.mask)  # warm-up
    for _ in range(repeats):
        start = time.perf_counter()
        supersampler(scan.filled, scan.mask)
        times["network"].append(time.perf_counter() - start)
        start = time.perf_counter()
        interpolate_partial(scan.samples, 5, image.shape, (0, 0), "bilinear")
        times["bilinear"].append(time.perf_counter() - start)
    return float(np.median(times["network"]) * 1e3), float(np.median(times["bilinear"]) * 1e3)


def example_figure(path: Path, image: np.ndarray, supersampler: Supersampler, step: int) -> None:
    full = scale_to_unit(image)
    scan = partial_scan(full, step)
    save_png(path, supersample_figure({
        f"partial scan 1/{step * step} (nearest)": scan.filled,
        "bilinear": interpolate_partial(scan.samples, step, full.shape, (0, 0), "bilinear"),
        "dosewise": supersampler(scan.filled, scan.mask),
        "full scan": full,
    }, f"1/{step * step} coverage"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--one-stage", type=Path, default=None)
    parser.add_argument("--sim-test", type=Path, default=Path("/work/stem/test.zarr"))
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    supersampler = Supersampler(args.model, device="cpu")
    methods = {**baseline_methods(), "dosewise": supersampler.method()}
    lines = [f"# Partial-scan supersampling ({datetime.date.today()}, {platform.node()})", "",
             f"Command: `.venv/bin/python benchmarks/bench_supersample.py --model {args.model}"
             + (f" --one-stage {args.one_stage}" if args.one_stage else "") + "`", ""]
    datasets = {
        "simulated": load_eval_images([], [args.sim_test]),
        "real": load_eval_images(real_files(), crop_px=512) if REAL_STEM.is_dir() else [],
    }
    for name, images in datasets.items():
        if not images:
            continue
        result = evaluate_supersampling(images, methods)
        paths = result.write(RESULTS / f"supersample-{name}", title=f"Supersampling, {name} STEM")
        paths["edge_curve.png"] = save_png(RESULTS / f"supersample-{name}" / "edge_curve.png", edge_curve_figure(result))
        lines += [f"## {name} STEM: {len(images)} images ({', '.join(n for n, _ in images[:9])}"
                  + (", ..." if len(images) > 9 else "") + ")", "", result.markdown(),
                  f"Files: `{paths['table.csv'].relative_to(REPO)}`, `{paths['edge_curve.png'].relative_to(REPO)}`", ""]
        if args.one_stage is not None:
            one = Supersampler(args.one_stage, device="cpu")
            step = int(supersampler_step(one.model.model_config))
            single = evaluate_supersampling(images, {"bilinear": methods["bilinear"], "one-stage": one.method(),
                                                     "dosewise": methods["dosewise"]}, steps=(step,))
            lines += [f"One-stage generator for 1/{step * step} only (Ede 2020, Fig. 9) "
                      "vs the unified one:", "",
                      single.markdown()]
        if name == "simulated":
            table = precision_table(images, methods["dosewise"], 5)
            lines += [precision_markdown(table, 5)]
        example_figure(RESULTS / f"supersample-{name}-example.png", images[0][1], supersampler, 8)
    network_ms, bilinear_ms = speed(supersampler, args.repeats)
    lines += ["## Speed", "", f"512x512 frame at 1/25, 2 CPU threads, median of {args.repeats}: "
              f"network (256 px tiles, 64 px overlap) {network_ms:.0f} ms, bilinear {bilinear_ms:.1f} ms.", ""]
    text = "\n".join(lines)
    (RESULTS / "supersample.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
