"""Segmentation of Au on CeO2: train on simulated HRTEM for a CPU budget, Dice on held-out images.

    .venv/bin/python benchmarks/bench_segment.py [--work DIR] [--model unet-2-44] [--minutes 10]

1. Simulates (or resumes) a training store (60 structures x 4 variants) and a held-out store
   (12 structures x 2 variants, another seed) of 256² px images at 0.25 Å/px, frame dose
   1e3..1e5 e-/Å², detector MTF preset mtf4.
2. Trains with `dosewise train segment` settings for at most ``--minutes`` wall-clock minutes.
3. Segments every held-out noisy image with the tiled predictor (threshold 0.5) and reports Dice
   against the exact masks, overall and per dose decade; the untrained network is the reference.
4. Runs the same model on the real nanoparticle images in ../shared/data/real/np_segmentation/
   and reports Dice against their masks (honest: a different modality and scale).

Writes benchmarks/results/segment.md (printed) and benchmarks/results/segment.png (validation
Dice per epoch, held-out and real examples). ``--figure-only`` redraws the figure from the
existing run in ``--work`` without training again.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from dosewise.infer import segment
from dosewise.metrics import dice
from dosewise.config import HrtemDatasetConfig
from dosewise.io import DatasetStore, read_image, read_mask
from dosewise.models import build_model
from dosewise.simulate import simulate_hrtem_dataset
from dosewise.config import TrainConfig
from dosewise.checkpoint import load_model
from dosewise.training import train

ROOT = Path(__file__).resolve().parents[1]
REAL_DIR = ROOT.parent / "shared" / "data" / "real" / "np_segmentation"
RESULTS = ROOT / "benchmarks" / "results" / "segment.md"
FIGURE = RESULTS.with_suffix(".png")
SIM = dict(size_px=256, pixel_size_A=0.25, dose_range_e_per_A2=(1e3, 1e5), mtf="mtf4")


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _held_out_dice(model, store: DatasetStore) -> tuple[list[float], list[float]]:
    scores, doses = [], []
    for sample_id in store.ids():
        sample = store.sample(sample_id)
        result = segment(sample.array("noisy"), model, threshold=0.5, tile_px=256, overlap_px=0, device="cpu")
        scores.append(dice(result.mask, sample.array("mask") > 0))
        doses.append(float(sample.metadata["dose_e_per_A2"]))
    return scores, doses


def _real_dice(model) -> list[tuple[str, float, float]]:
    rows = []
    for image_path in sorted(REAL_DIR.glob("*__image.tif")):
        truth = read_mask(image_path.with_name(image_path.name.replace("__image", "__mask")))
        # chenlab: class 1 (red) = particle bodies; ArdaGen: class 2 = Pt particles.
        target = truth == (2 if "ardagen" in image_path.name else 1)
        result = segment(read_image(image_path), model, threshold=0.5, tile_px=512, overlap_px=64, device="cpu")
        rows.append((image_path.name, dice(result.mask, target), float(target.mean())))
    return rows


def _val_dice_curve(run_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Validation Dice per epoch from Lightning's CSV log (rows without the metric are train rows)."""
    epochs, values = [], []
    for csv_path in sorted(run_dir.glob("logs/version_*/metrics.csv")):
        rows = np.genfromtxt(csv_path, delimiter=",", names=True, dtype=float)
        rows = rows[~np.isnan(rows["valdice"])]
        epochs += list(rows["epoch"])
        values += list(rows["valdice"])
    return np.array(epochs), np.array(values)


def _figure(run_dir: Path, model, test: DatasetStore) -> None:
    """Curve, three held-out simulated images (noisy / truth / prediction) and two real ones."""
    fig, axes = plt.subplots(3, 4, figsize=(13, 10), constrained_layout=True)
    epochs, values = _val_dice_curve(run_dir)
    axes[0, 0].plot(epochs + 1, values, "-", color="tab:blue")
    axes[0, 0].set(xlabel="epoch", ylabel="validation Dice", ylim=(0, 1), title="training")
    ids = test.ids()
    for row, sample_id in enumerate(ids[:: max(1, len(ids) // 3)][:3]):
        sample = test.sample(sample_id)
        noisy = sample.array("noisy")
        pred = segment(noisy, model, threshold=0.5, tile_px=256, overlap_px=0, device="cpu").mask
        truth = sample.array("mask") > 0
        dose = float(sample.metadata["dose_e_per_A2"])
        panels = [(noisy, f"held-out, {dose:.0f} e-/Å²"), (truth, "true mask"),
                  (pred, f"prediction, Dice {dice(pred, truth):.3f}")]
        for offset, (image, title) in enumerate(panels):
            ax = axes[row, (1 if row == 0 else 0) + offset]
            ax.imshow(image, cmap="gray")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    real = sorted(REAL_DIR.glob("*__image.tif"))[-2:] if REAL_DIR.is_dir() else []
    for index, image_path in enumerate(real):
        image = read_image(image_path)
        pred = segment(image, model, threshold=0.5, tile_px=512, overlap_px=64, device="cpu").mask
        target = read_mask(image_path.with_name(image_path.name.replace("__image", "__mask"))) == 1
        ax = axes[2, 3] if index == 0 else axes[1, 3]
        ax.imshow(np.asarray(image.data, dtype=float), cmap="gray")
        ax.contour(pred, levels=[0.5], colors="tab:red", linewidths=0.6)
        ax.set_title(f"real: {image_path.name.split('__')[1][:22]}\nDice {dice(pred, target):.3f}", fontsize=8)
        ax.axis("off")
    fig.suptitle("dosewise segmentation benchmark (Au/CeO2, simulated HRTEM)")
    fig.savefig(FIGURE, dpi=90)
    plt.close(fig)


class _Untrained:
    """The same architecture with its initial weights: the reference a trained model must beat."""

    def __init__(self, loaded) -> None:
        torch.manual_seed(0)
        self.network = build_model(loaded.model_config).eval()
        self.normalisation, self.threshold, self.task = loaded.normalisation, 0.5, "segment"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/dosewise-bench-segment"))
    parser.add_argument("--model", default="unet-2-44")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--figure-only", action="store_true", help="redraw the figure from the existing run")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 2)
    args.work.mkdir(parents=True, exist_ok=True)

    if args.figure_only:
        run_dir = args.work / f"run-{args.model}"
        _figure(run_dir, load_model(run_dir / "checkpoints" / "best.ckpt"), DatasetStore.open(args.work / "test.zarr"))
        print(f"wrote {FIGURE}")
        return

    start = time.perf_counter()
    simulate_hrtem_dataset(args.work / "train.zarr",
                           HrtemDatasetConfig(n_structures=60, variants_per_structure=4, seed=1, **SIM))
    simulate_hrtem_dataset(args.work / "test.zarr",
                           HrtemDatasetConfig(n_structures=12, variants_per_structure=2, seed=2, **SIM))
    simulate_s = time.perf_counter() - start

    config = TrainConfig.validate_dict({
        "task": "segment",
        "model": {"name": args.model},
        "data": {"store": str(args.work / "train.zarr"), "crop_px": args.crop, "val_fraction": 0.1},
        "loss": "bce_dice",
        "epochs": 1000,
        "max_minutes": args.minutes,
        "batch_size": args.batch_size,
        "out_dir": str(args.work / f"run-{args.model}"),
        "seed": 0,
    })
    start = time.perf_counter()
    result = train(config, resume=False)
    train_s = time.perf_counter() - start
    loaded = load_model(result.best_checkpoint or result.last_checkpoint)

    test = DatasetStore.open(args.work / "test.zarr")
    scores, doses = _held_out_dice(loaded, test)
    untrained, _ = _held_out_dice(_Untrained(loaded), test)
    scores_arr, doses_arr = np.array(scores), np.array(doses)

    lines = [
        "# Segmentation benchmark (simulated Au/CeO2 HRTEM)",
        "",
        f"- command: `python benchmarks/bench_segment.py --model {args.model} --minutes {args.minutes:g}`",
        f"- machine: {os.cpu_count()} CPUs ({_cpu_model()}), torch threads {torch.get_num_threads()}, no GPU",
        f"- date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        f"- data: 240 training images (60 structures x 4), 24 held-out images (12 structures, other seed), "
        f"256² px at 0.25 Å/px, 1e3..1e5 e-/Å², mtf4; simulation {simulate_s:.0f} s (0 s when cached)",
        f"- training: {args.model}, BCE + Dice, Adam 2e-4, crops {args.crop}², batch {args.batch_size}, "
        f"{train_s / 60:.1f} min wall clock (budget {args.minutes:g}), stopped after epoch "
        f"{int(loaded.metadata.get('epoch', -1))} (best checkpoint by val Dice)",
        "",
        "| held-out images | n | Dice trained (mean) | Dice untrained (mean) |",
        "|---|---|---|---|",
        f"| all (1e3..1e5 e-/Å²) | {len(scores)} | {scores_arr.mean():.3f} | {np.mean(untrained):.3f} |",
    ]
    for low, high in ((1e3, 1e4), (1e4, 1e5)):
        sel = (doses_arr >= low) & (doses_arr < high)
        if sel.any():
            lines.append(f"| {low:.0e}..{high:.0e} e-/Å² | {int(sel.sum())} | {scores_arr[sel].mean():.3f} | "
                         f"{np.array(untrained)[sel].mean():.3f} |")
    if REAL_DIR.is_dir():
        lines += ["", "Real images (`../shared/data/real/np_segmentation/`), same model, threshold 0.5:", "",
                  "| image | Dice | foreground fraction of the mask |", "|---|---|---|"]
        lines += [f"| {name} | {score:.3f} | {fraction:.3f} |" for name, score, fraction in _real_dice(loaded)]
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    _figure(args.work / f"run-{args.model}", loaded, test)
    print(text)


if __name__ == "__main__":
    main()
