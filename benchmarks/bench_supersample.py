"""Partial-scan supersampling against OpenCV's interpolations (Ede 2020, Tables 2-3, Fig. 8).

    .venv/bin/python benchmarks/bench_supersample.py [--model CKPT] [--one-stage CKPT] \
        [--sim-test STORE ...] [--repeats 10]

The shipped supersampler by default, as users get it (self-calibrated, "dosewise") and as
trained ("network, uncalibrated"), on held-out simulated ADF-STEM (stores from `dosewise
simulate stem` with other seeds than the training stores) and on the real full scans of
../shared/data/real/stem/ that the model never trained on (``--trained-on`` names those it
did; central 512 px crops; the author-made partial scan and its spiral mask are left out: they
are not full scans). Each against Ede 2020's blurred target and against the raw full scan.
Writes benchmarks/results/supersample.md (printed), supersample-*/table.csv and the figures.
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
    SupersampleEvaluation,
    evaluate_supersampling,
    load_eval_images,
    precision_markdown,
    precision_table,
)
from dosewise.data.partial_scans import scale_to_unit
from dosewise.infer.supersample import Supersampler, default_supersampler_path
from dosewise.physics.partial_scan import partial_scan
from dosewise.models.dlss import supersampler_step
from dosewise.report.style import save_png
from dosewise.report.supersample_figure import edge_curve_figure, supersample_figure

REPO = Path(__file__).resolve().parents[1]
REAL_STEM = REPO.parent / "shared" / "data" / "real" / "stem"
RESULTS = REPO / "benchmarks" / "results"
NOT_FULL_SCANS = ("partialstem__partial_scan", "partialstem__mask")
SHIPPED_TRAINED_ON = ("partialstem__truth-1.tif", "atomsegnet__03_afterimage_8nm_crp.png")
"""The real files the shipped model learned from (MIT-licensed; model card)."""
TARGETS = {"blurred target (Ede 2020)": 2.5, "raw full scan": 0.0}


def real_files(trained_on: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in REAL_STEM.iterdir() if p.is_file() and not p.name.startswith(NOT_FULL_SCANS)
                  and p.name not in trained_on and p.suffix.lower() != ".md")


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
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped supersampler")
    parser.add_argument("--one-stage", type=Path, default=None)
    parser.add_argument("--sim-test", type=Path, nargs="*", default=[Path("/work/stem/test.zarr")])
    parser.add_argument("--trained-on", nargs="*", default=list(SHIPPED_TRAINED_ON),
                        help="real files the model learned from (left out of the real test set)")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    model = args.model or default_supersampler_path()
    supersampler = Supersampler(model, device="cpu")
    methods = {**baseline_methods(), "dosewise": supersampler.method(),
               "network, uncalibrated": Supersampler(model, device="cpu", calibrate=False).method()}
    command = ("`.venv/bin/python benchmarks/bench_supersample.py"
               + (f" --model {args.model}" if args.model else "")
               + (f" --one-stage {args.one_stage}" if args.one_stage else "")
               + " --sim-test " + " ".join(map(str, args.sim_test)) + "`")
    lines = [f"# Partial-scan supersampling ({datetime.date.today()}, {platform.node()})", "",
             f"Command: {command}; model `{model.name}`", ""]
    datasets = {
        "simulated": load_eval_images([], args.sim_test),
        "real": load_eval_images(real_files(tuple(args.trained_on)), crop_px=512) if REAL_STEM.is_dir() else [],
    }
    for name, images in datasets.items():
        if not images:
            continue
        lines += [f"## {name} STEM: {len(images)} images ({', '.join(n for n, _ in images[:9])}"
                  + (", ..." if len(images) > 9 else "") + ")", ""]
        for target, sigma_px in TARGETS.items():
            result = evaluate_supersampling(images, methods, target_blur_sigma_px=sigma_px)
            folder = RESULTS / (f"supersample-{name}" + ("" if sigma_px else "-raw"))
            paths = result.write(folder, title=f"Supersampling, {name} STEM, {target}")
            paths["edge_curve.png"] = save_png(folder / "edge_curve.png", edge_curve_figure(result))
            lines += [f"### {target}", "", result.markdown(), "Per image, network / bilinear root-MSE "
                      "(dosewise | uncalibrated):", "", per_image_markdown(result), "",
                      f"Files: `{paths['table.csv'].relative_to(REPO)}`, "
                      f"`{paths['edge_curve.png'].relative_to(REPO)}`", ""]
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
    raw_ms, _ = speed(Supersampler(model, device="cpu", calibrate=False), args.repeats)
    lines += ["## Speed", "", f"512x512 frame at 1/25, 2 CPU threads, median of {args.repeats}: "
              f"self-calibrated network {network_ms:.0f} ms (five passes), uncalibrated {raw_ms:.0f} ms "
              f"(256 px tiles, 64 px overlap), bilinear {bilinear_ms:.1f} ms.", ""]
    text = "\n".join(lines)
    (RESULTS / "supersample.md").write_text(text, encoding="utf-8")
    print(text)


def per_image_markdown(result: SupersampleEvaluation) -> str:
    """One row per image: network / bilinear root-MSE per coverage, calibrated | uncalibrated."""
    lines = ["| image | " + " | ".join(f"1/{s * s}" for s in result.steps) + " |",
             "|---|" + "---:|" * len(result.steps)]
    for i, image in enumerate(result.images):
        cells = []
        for step in result.steps:
            base = result.mse[("bilinear", step)][i]
            cells.append(" \\| ".join(f"{np.sqrt(result.mse[(m, step)][i] / base):.2f}"
                                       for m in ("dosewise", "network, uncalibrated")))
        lines.append(f"| {image} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
