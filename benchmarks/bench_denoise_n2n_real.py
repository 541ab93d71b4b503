"""Noise2Noise on the real low-dose TEM pair: train on one half of the field, score the other half.

    .venv/bin/python benchmarks/bench_denoise_n2n_real.py [--minutes 6] [--work DIR]

The pair in ../shared/data/real/lowdose_tem/ is two independent low-dose exposures (A, B) of
one 512x512 field. Rows 0-255 of both train a fast-unet with `dosewise train denoise --kind
noise2noise` (L2, 64 px crops, flips; cut into four 64x512 strip pairs so that
one can be held out for validation); rows 256-511 are never seen in training. On that held-out
half, with independent noise in A and B, corr(f(A), B) rises above corr(A, B) only if f(A) is
closer to the common signal; corr(f(B), A) checks the other direction. Also scored: a Gaussian
filter, BM3D on the Anscombe transform, and the shipped simulated-data model.

Writes benchmarks/results/denoise-n2n-real.md (printed) and .png.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.ndimage import gaussian_filter

from dosewise.infer.denoise import Denoiser, default_model_path
from dosewise.io import read_image, write_image

sys.path.insert(0, str(Path(__file__).parent))
from bench_denoise_quality import bm3d_poisson  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PAIR = ROOT.parent / "shared" / "data" / "real" / "lowdose_tem"
SPLIT_ROW = 256
STRIPS = 4


def corr(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x.ravel(), y.ravel())[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dosewise-n2n-real"))
    args = parser.parse_args()
    files = sorted(PAIR.glob("*.tif"))
    if len(files) != 2:
        sys.exit(f"{PAIR}: expected the two exposures of the pair, found {len(files)} TIFF files")
    a, b = (read_image(f).data.astype(np.float32) for f in files)
    for name, image in (("expA", a), ("expB", b)):
        folder = args.work / name
        folder.mkdir(parents=True, exist_ok=True)
        for strip in range(STRIPS):  # pairs of 64x512 strips: one is held out for validation
            rows = slice(strip * SPLIT_ROW // STRIPS, (strip + 1) * SPLIT_ROW // STRIPS)
            if not (folder / f"strip{strip}.tif").exists():
                write_image(folder / f"strip{strip}.tif", image[rows])
    run = args.work / "run"
    subprocess.run([str(Path(sys.executable).with_name("dosewise")), "train", "denoise",
                    "--pairs", str(args.work / "expA"), str(args.work / "expB"), "--kind", "noise2noise",
                    "--model", "fast-unet", "--crop", "64", "--batch-size", "8", "--epochs", "100000",
                    "--minutes", str(args.minutes), "--seed", "0", "--out", str(run), "--json"],
                   check=True, stdout=subprocess.DEVNULL)
    n2n = Denoiser.from_checkpoint(run / "checkpoints" / "best.ckpt", device="cpu", tile_px=256)
    shipped = Denoiser.from_checkpoint(default_model_path(), device="cpu", tile_px=256)
    a_test, b_test = a[SPLIT_ROW:], b[SPLIT_ROW:]
    gain = float(np.var(a - b) / 2.0 / ((a.mean() + b.mean()) / 2.0))  # counts per electron
    methods = {
        "raw": lambda x: x,
        "gaussian sigma 2 px": lambda x: gaussian_filter(x, 2.0),
        "gaussian sigma 4 px": lambda x: gaussian_filter(x, 4.0),
        "bm3d (Anscombe)": lambda x: bm3d_poisson(x / gain) * gain,
        "shipped model (simulated data)": shipped,
        "noise2noise on this pair's other half": n2n,
    }
    rows, outputs = [], {}
    for name, method in methods.items():
        fa, fb = method(a_test), method(b_test)
        outputs[name] = fa
        rows.append((name, corr(fa, b_test), corr(fb, a_test)))
    lines = [f"# Noise2Noise on the real low-dose pair ({datetime.date.today()}, {platform.node()})", "",
             f"Command: `.venv/bin/python benchmarks/bench_denoise_n2n_real.py --minutes {args.minutes:g}`; "
             f"gain ≈ {gain:.0f} counts/e-, dose ≈ {a.mean() / gain:.2f} e-/px; scored on rows "
             f"{SPLIT_ROW}-511 (not trained on).", "",
             "| method | corr(f(A), B) | corr(f(B), A) |", "|---|---:|---:|"]
    lines += [f"| {name} | {ab:.4f} | {ba:.4f} |" for name, ab, ba in rows]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "denoise-n2n-real.md").write_text(text)
    fig, axes = plt.subplots(1, len(outputs), figsize=(2.6 * len(outputs), 2.8))
    for ax, (name, image) in zip(axes, outputs.items()):
        low, high = np.percentile(image, [1, 99])
        ax.imshow(image, cmap="gray", vmin=low, vmax=high)
        ax.set_title(name, fontsize=7)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(RESULTS / "denoise-n2n-real.png", dpi=110)
    print(text)


if __name__ == "__main__":
    main()
