"""Speed of the HRTEM simulator: exit waves, image variants, and dataset throughput.

    .venv/bin/python benchmarks/bench_simulate.py [--repeats 3] [--sizes 256 512 1024]

Writes a Markdown table to benchmarks/results/simulate.md and prints it. Timings are
medians over ``--repeats`` structures (different seeds: atom counts differ), taken after
one warm-up call per size. The dataset rows compare exit-wave reuse (10 variants per
structure, Larsen et al. 2023's image epochs) with one exit wave per image, in the same run.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dosewise.config import HrtemDatasetConfig, MicroscopeRanges
from dosewise.simulate.dataset import simulate_hrtem_dataset
from dosewise.simulate.hrtem import compute_exit_wave, lens_margin_A
from dosewise.simulate.render import draw_detector, render_sample, resolve_mtf
from dosewise.simulate.structures import build_supported_particle

PIXEL_SIZE_A = 0.075
RESULTS = Path(__file__).parent / "results" / "simulate.md"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _timed(func) -> tuple[float, object]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def bench_size(size_px: int, repeats: int, variants: int) -> dict[str, float]:
    """Median seconds per exit wave and per variant for fields of ``size_px``² at 0.075 Å/px.

    The cell is the field plus the automatic margin for the Table 1 ranges, as in a dataset.
    """
    field_A = size_px * PIXEL_SIZE_A
    ranges = MicroscopeRanges()
    margin_A = math.ceil(lens_margin_A(ranges, PIXEL_SIZE_A) / PIXEL_SIZE_A - 1e-9) * PIXEL_SIZE_A
    mtf = resolve_mtf("mtf4")
    wave_s, variant_s, atoms = [], [], []
    for repeat in range(repeats + 1):  # repeat 0 warms up imports and caches
        particle = build_supported_particle(field_A, seed=repeat, margin_A=margin_A)
        seconds, wave = _timed(lambda: compute_exit_wave(particle.atoms, sampling_A=PIXEL_SIZE_A))
        rng = np.random.default_rng(repeat)
        for _ in range(variants):
            optics, detector = ranges.sample(rng), draw_detector(mtf, rng)
            v_seconds, _ = _timed(lambda: render_sample(wave, particle, optics, detector,
                                                        pixel_size_A=PIXEL_SIZE_A, size_px=size_px, rng=rng))
            if repeat:
                variant_s.append(v_seconds)
        if repeat:
            wave_s.append(seconds)
            atoms.append(len(particle.atoms))
    return {"exit_wave_s": statistics.median(wave_s), "variant_s": statistics.median(variant_s),
            "atoms": statistics.median(atoms), "cell_px": size_px + 2 * round(margin_A / PIXEL_SIZE_A)}


def bench_dataset(size_px: int, n_images: int, variants: int, workers: int) -> float:
    """Labelled images per second for ``n_images`` images with ``variants`` per exit wave."""
    with tempfile.TemporaryDirectory() as tmp:
        config = HrtemDatasetConfig(n_structures=n_images // variants, variants_per_structure=variants,
                                    size_px=size_px, pixel_size_A=PIXEL_SIZE_A, mtf="mtf4", seed=0)
        seconds, _ = _timed(lambda: simulate_hrtem_dataset(Path(tmp) / "bench.zarr", config, workers=workers,
                                                           progress=False))
    return n_images / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--dataset-size", type=int, default=512)
    parser.add_argument("--dataset-images", type=int, default=60)
    args = parser.parse_args()

    lines = [
        "# Simulator benchmark (dosewise.simulate)",
        "",
        f"- command: `{' '.join([Path(sys.executable).name, *sys.argv])}`",
        f"- machine: {os.cpu_count()} CPUs (nproc), {_cpu_model()}",
        f"- date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        f"- pixel size {PIXEL_SIZE_A} Å/px (exit wave on the same grid), slice 2 Å, no frozen phonons,"
        " numpy FFT (bit-reproducible), median of "
        f"{args.repeats} structures after a warm-up; particle diameter 15-50 Å capped at 60 % of the field",
        f"- cell = field + the automatic margin ({lens_margin_A(MicroscopeRanges(), PIXEL_SIZE_A):.1f} Å,"
        " rounded up to whole pixels) on every side, cropped after the lens",
        "",
        "| field (px) | field (Å) | simulated cell (px) | atoms (median) | s / exit wave |"
        " s / variant (CTF+MTF+noise+mask) |",
        "|---|---|---|---|---|---|",
    ]
    for size in args.sizes:
        result = bench_size(size, args.repeats, variants=10)
        lines.append(f"| {size}² | {size * PIXEL_SIZE_A:.1f} | {result['cell_px']}² | {result['atoms']:.0f} | "
                     f"{result['exit_wave_s']:.2f} | {result['variant_s']:.3f} |")
        print(lines[-1], flush=True)

    n, size = args.dataset_images, args.dataset_size
    lines += ["", f"Dataset generation, {n} labelled {size}² images into a DatasetStore:", "",
              "| mode | workers | images / s |", "|---|---|---|"]
    for label, variants, workers in (("one exit wave per image (reference)", 1, 1),
                                     ("exit-wave reuse, 10 variants per structure", 10, 1),
                                     ("exit-wave reuse, 10 variants per structure", 10, 2)):
        rate = bench_dataset(size, n, variants, workers)
        lines.append(f"| {label} | {workers} | {rate:.2f} |")
        print(lines[-1], flush=True)

    lines += ["", "The workers=2 rate includes starting 2 processes (each imports abTEM, ~3 s)."]
    table = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
