"""Denoising quality: input, Gaussian filter, BM3D and a dosewise denoiser (default: the shipped one).

    .venv/bin/python benchmarks/bench_denoise_quality.py [--model CKPT] [--work DIR] [--per-kind 8]

1. A held-out simulated test set with seeds the shipped model never saw: ``--per-kind`` images
   each of Au/CeO2 HRTEM (0.25 Å/px, MTF mtf4), bright-field particle fields and ADF-STEM
   columns, 256² px, clean intensities divided by their mean (the shipped model's recipe).
2. At 1, 5, 20 and 100 e-/px: shot noise (seeded), then every method, all in the clean image's
   units (counts / dose). PSNR and SSIM use each clean image's own range.
   - Gaussian: the sigma from {0.5, 1, 1.5, 2, 3, 4} px with the best mean PSNR at that dose
     (an oracle-tuned baseline, so it is as good as a Gaussian can be here).
   - BM3D (bm3d 4.0.3) on the Anscombe transform of the counts (sigma 1), with the
     asymptotically unbiased algebraic inverse; an oracle-free, standard Poisson recipe.
3. The real Noise2Noise pair (../shared/data/real/lowdose_tem/): the correlation of each
   method's output on exposure A with the raw exposure B, against raw A vs raw B. With
   independent noise, corr(f(A), B) rises only if f(A) is closer to the common signal.

Writes benchmarks/results/denoise-quality.md (printed), .csv and .png (examples per dose);
``--tag T`` writes denoise-quality-T.* instead (e.g. for the reference ResNet18-U-Net trained by
``scripts/train_default_denoiser.py --model resnet18-unet``).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import platform
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.ndimage import gaussian_filter

from dosewise.config import HrtemDatasetConfig, StemDatasetConfig
from dosewise.infer.denoise import Denoiser, default_model_path
from dosewise.io import DatasetStore, read_image
from dosewise.metrics import psnr_db, ssim
from dosewise.simulate import simulate_hrtem_dataset
from dosewise.simulate.particle_fields import particle_field
from dosewise.simulate.stem_dataset import simulate_stem_dataset

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
REAL_PAIR = ROOT.parent / "shared" / "data" / "real" / "lowdose_tem"
DOSES_E_PER_PX = (1.0, 5.0, 20.0, 100.0)
GAUSSIAN_SIGMAS_PX = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
TEST_SEED = 9001  # the shipped model trains on seed 0
SIZE_PX = 256


def test_set(work: Path, per_kind: int) -> list[tuple[str, np.ndarray]]:
    """Held-out clean images (mean 1), labelled by kind."""
    hrtem = simulate_hrtem_dataset(work / "hrtem.zarr",
                                   HrtemDatasetConfig(n_structures=per_kind, variants_per_structure=1,
                                                      size_px=SIZE_PX, pixel_size_A=0.25, mtf="mtf4",
                                                      seed=TEST_SEED),
                                   workers=2).path
    stem = simulate_stem_dataset(work / "stem.zarr",
                                 StemDatasetConfig(n_images=per_kind, size_px=SIZE_PX, seed=TEST_SEED)).path
    images: list[tuple[str, np.ndarray]] = []
    for kind, path, key in (("hrtem", hrtem, "clean"), ("stem", stem, "noise_free")):
        store = DatasetStore.open(path)
        images += [(kind, store.sample(i).array(key)) for i in sorted(store.ids())[:per_kind]]
    rng = np.random.default_rng(np.random.SeedSequence(TEST_SEED, spawn_key=(7,)))
    images += [("field", particle_field(SIZE_PX, rng)) for _ in range(per_kind)]
    return [(kind, _unit_mean(image)) for kind, image in images]


def _unit_mean(image: np.ndarray) -> np.ndarray:
    image = np.clip(np.asarray(image, np.float32), 0.0, None)
    return image / max(float(image.mean()), 1e-6)


def bm3d_poisson(counts: np.ndarray) -> np.ndarray:
    """BM3D on the Anscombe-stabilised counts (noise sigma 1), back to counts."""
    import bm3d

    stabilised = 2.0 * np.sqrt(counts + 3.0 / 8.0)
    denoised = bm3d.bm3d(stabilised, sigma_psd=1.0)
    return np.maximum(denoised / 2.0, 0.0) ** 2 - 1.0 / 8.0


def scores(estimate: np.ndarray, clean: np.ndarray) -> tuple[float, float]:
    data_range = float(clean.max() - clean.min())
    return psnr_db(estimate, clean, data_range), ssim(estimate, clean, data_range)


def run_simulated(denoiser: Denoiser, images: list[tuple[str, np.ndarray]]) -> tuple[list[dict], dict]:
    rows: list[dict] = []
    examples: dict[float, dict[str, np.ndarray]] = {}
    for dose in DOSES_E_PER_PX:
        rng = np.random.default_rng(np.random.SeedSequence(TEST_SEED, spawn_key=(int(dose * 10),)))
        noisy = [rng.poisson(dose * clean).astype(np.float32) for _, clean in images]
        outputs: dict[str, list[np.ndarray]] = {"input": [n / dose for n in noisy]}
        gaussian = {s: [gaussian_filter(n, s) for n in outputs["input"]] for s in GAUSSIAN_SIGMAS_PX}
        best_sigma = max(GAUSSIAN_SIGMAS_PX, key=lambda s: np.mean(
            [scores(g, c)[0] for g, (_, c) in zip(gaussian[s], images)]))
        outputs["gaussian"] = gaussian[best_sigma]
        outputs["bm3d"] = [bm3d_poisson(n) / dose for n in noisy]
        outputs["dosewise"] = list(denoiser(np.stack(noisy)) / dose)
        for method, estimates in outputs.items():
            for (kind, clean), estimate in zip(images, estimates):
                psnr, ssim = scores(estimate, clean)
                rows.append({"dose_e_per_px": dose, "method": method, "kind": kind, "psnr_db": psnr,
                             "ssim": ssim, "gaussian_sigma_px": best_sigma if method == "gaussian" else ""})
        examples[dose] = {"clean": images[0][1], **{m: e[0] for m, e in outputs.items()}}
        print(f"dose {dose:g} e-/px done (gaussian sigma {best_sigma} px)", flush=True)
    return rows, examples


def run_real(denoiser: Denoiser) -> list[dict] | None:
    files = sorted(REAL_PAIR.glob("*.tif"))
    if len(files) != 2:
        return None
    a, b = (read_image(f).data.astype(np.float32) for f in files)
    gain = float(np.var(a - b) / 2.0 / ((a.mean() + b.mean()) / 2.0))  # counts per electron
    corr = lambda x: float(np.corrcoef(x.ravel(), b.ravel())[0, 1])  # noqa: E731
    estimates = {"input": a, "gaussian sigma 2 px": gaussian_filter(a, 2.0),
                 "bm3d": bm3d_poisson(a / gain) * gain, "dosewise": denoiser(a)}
    return [{"method": name, "corr_with_raw_B": corr(x), "gain_counts_per_e": gain,
             "dose_e_per_px": float(a.mean() / gain)} for name, x in estimates.items()]


def summarise(rows: list[dict]) -> list[dict]:
    table = []
    for dose in DOSES_E_PER_PX:
        for method in ("input", "gaussian", "bm3d", "dosewise"):
            sel = [r for r in rows if r["dose_e_per_px"] == dose and r["method"] == method]
            table.append({"dose_e_per_px": dose, "method": method,
                          "psnr_db": float(np.mean([r["psnr_db"] for r in sel])),
                          "psnr_sd": float(np.std([r["psnr_db"] for r in sel])),
                          "ssim": float(np.mean([r["ssim"] for r in sel])),
                          **{f"psnr_{k}": float(np.mean([r["psnr_db"] for r in sel if r["kind"] == k]))
                             for k in ("hrtem", "field", "stem")}})
    return table


def write_markdown(path: Path, table: list[dict], real: list[dict] | None, model: Path, n: int) -> str:
    lines = [f"# Denoising quality ({datetime.date.today()}, {platform.node()})", "",
             f"Model: `{model.name}`; held-out simulated test set: {n} images (HRTEM, particle fields, "
             "STEM, 256² px), mean of per-image PSNR (dB) ± SD and SSIM.", "",
             "| dose e-/px | method | PSNR dB | ± SD | SSIM | PSNR HRTEM | PSNR fields | PSNR STEM |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in table:
        lines.append(f"| {r['dose_e_per_px']:g} | {r['method']} | {r['psnr_db']:.2f} | {r['psnr_sd']:.2f} | "
                     f"{r['ssim']:.3f} | {r['psnr_hrtem']:.2f} | {r['psnr_field']:.2f} | {r['psnr_stem']:.2f} |")
    if real:
        lines += ["", f"Real Noise2Noise pair (Katsuno, 512², gain ≈ {real[0]['gain_counts_per_e']:.0f} "
                  f"counts/e-, ≈ {real[0]['dose_e_per_px']:.1f} e-/px): correlation of f(exposure A) with "
                  "raw exposure B", "", "| method | corr(f(A), B) |", "|---|---:|"]
        lines += [f"| {r['method']} | {r['corr_with_raw_B']:.4f} |" for r in real]
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text


def figure(path: Path, examples: dict) -> None:
    methods = ["clean", "input", "gaussian", "bm3d", "dosewise"]
    fig, axes = plt.subplots(len(examples), len(methods), figsize=(2.2 * len(methods), 2.2 * len(examples)))
    for row, (dose, panel) in enumerate(examples.items()):
        clean = panel["clean"]
        low, high = np.percentile(clean, [0.5, 99.5])
        for col, name in enumerate(methods):
            ax = axes[row, col]
            ax.imshow(panel[name], cmap="gray", vmin=low, vmax=high)
            ax.set_xticks([]), ax.set_yticks([])
            if row == 0:
                ax.set_title(name)
            if col == 0:
                ax.set_ylabel(f"{dose:g} e-/px")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--work", type=Path, default=Path("/tmp/dosewise-denoise-quality"))
    parser.add_argument("--per-kind", type=int, default=8)
    parser.add_argument("--tag", default="", help="suffix of the result files (another model)")
    args = parser.parse_args()
    result_name = "denoise-quality" + (f"-{args.tag}" if args.tag else "")
    args.work.mkdir(parents=True, exist_ok=True)
    model = args.model or default_model_path()
    denoiser = Denoiser.from_checkpoint(model, device="cpu", tile_px=256)
    images = test_set(args.work, args.per_kind)
    rows, examples = run_simulated(denoiser, images)
    real = run_real(denoiser)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / f"{result_name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    figure(RESULTS / f"{result_name}.png", examples)
    print(write_markdown(RESULTS / f"{result_name}.md", summarise(rows), real, model, len(images)))


if __name__ == "__main__":
    main()
