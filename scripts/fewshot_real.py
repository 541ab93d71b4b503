"""Few-shot segmentation on real labelled micrographs: shipped pretrained weights vs random ones.

    nice -n 19 .venv/bin/python scripts/fewshot_real.py --out results/fewshot-real

The Kazimi et al. 2024 question (Tables 2-6) asked where a microscopist stands: k = 1, 2, 4
labelled images of their own, a few minutes of fine-tuning, and images the network never saw.
Per source of ``../shared/data/real`` (every file of it is evaluation data here; none of them
taught the shipped weights):

- the labelled training pool is cut into 128² tiles; a seed draws k tiles that show the class
  (a user labels images with their particles in them), one more tile validates (picks the
  best-so-far checkpoint, as ``dosewise finetune`` does);
- the test region is never tiled for training: the other image of a source with two files or
  more (ArdaGen Pt, ISBI), else the bottom half of the one image (chenlab);
- every table also shows the Dice of calling every test pixel foreground (the trivial answer);
- each run fine-tunes for 20 epochs of 32 crops (an epoch is the same work for every k), Adam
  (``--lr``, default 2e-4), BCE; the weights after epochs 5, 10 and 20 (``--weights best``: the best-so-far
  checkpoints by the validation tile, as the paper scores them) are scored by Dice (%) on the
  whole test region at threshold 0.5.

Writes ``results.csv`` (one row per source, k, init, seed, epoch), ``table.md`` (mean ± std over
seeds, the paper's layout, and pretrained minus random paired by seed) and ``fewshot.png``.
"""

from __future__ import annotations

import argparse
import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
import torch
from matplotlib.figure import Figure

from dosewise.checkpoint import load_model
from dosewise.data.datasets import binary_mask
from dosewise.io import read_image, read_mask
from dosewise.metrics import dice
from dosewise.report.style import save_png
from dosewise.training import train
from dosewise.training.finetune import finetune_config

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
TILE_PX = 128
EPOCH_CROPS = 32
SNAPSHOT_EPOCHS = (5, 10, 20)


@dataclass(frozen=True)
class Source:
    """One labelled real source: its training files, its test files and the class learned."""

    name: str
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    class_id: int | None

    def pairs(self, names: tuple[str, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(image, binary mask) of each file stem ``names`` (``<stem>__image.*``, ``<stem>__mask.*``)."""
        out = []
        for stem in names:
            image_path, mask_path = (next(REAL.glob(f"{stem}__{kind}.*")) for kind in ("image", "mask"))
            image = np.asarray(read_image(image_path).data, dtype=np.float32)
            out.append((image, binary_mask(read_mask(mask_path), self.class_id)[0].astype(np.uint8)))
        return out

    def split(self) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]:
        """(training pool, test images); one file only: top half trains, bottom half tests."""
        if self.test_files:
            return self.pairs(self.train_files), self.pairs(self.test_files)
        (image, mask), = self.pairs(self.train_files)
        half = image.shape[0] // 2
        return [(image[:half], mask[:half])], [(image[half:], mask[half:])]


SOURCES = {
    "au-tetrahedra": Source("au-tetrahedra", ("np_segmentation/chenlab_Au-tetrahedra__3-Au-tetra-2-30k-3-10",),
                            (), 1),
    "nanoprism-core": Source("nanoprism-core", ("np_segmentation/chenlab_patchy-nanoprism__2.5-50",), (), 1),
    "pt-alumina": Source("pt-alumina", ("np_segmentation/ardagen_Pt-alumina__train_20012_p00",),
                         ("np_segmentation/ardagen_Pt-alumina__train_20004_p01",), 2),
    "isbi-cells": Source("isbi-cells", tuple(f"cellular_em/isbi2012__slice_{i}" for i in (25, 26, 27, 28)),
                         ("cellular_em/isbi2012__slice_29",), None),  # gray 0/255: 255 = cell interior
}
"""The labelled real sources (../shared/data/real/PROVENANCE.md); class 1 of a colour mask is red,
None: every non-zero label of a gray mask."""


class TooFewTiles(Exception):
    """A source whose training half has fewer class-showing tiles than k + 1: that k is left out."""


def tiles(pool: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Non-overlapping ``TILE_PX`` tiles of every pool image that show some of the class."""
    out = []
    for image, mask in pool:
        for row in range(0, image.shape[0] - TILE_PX + 1, TILE_PX):
            for col in range(0, image.shape[1] - TILE_PX + 1, TILE_PX):
                window = np.s_[row:row + TILE_PX, col:col + TILE_PX]
                if mask[window].any():
                    out.append((image[window], mask[window]))
    return out


def write_pairs(folder: Path, pairs: list[tuple[np.ndarray, np.ndarray]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, (image, mask) in enumerate(pairs):
        tifffile.imwrite(folder / f"t{index:02d}.tif", image)
        tifffile.imwrite(folder / f"t{index:02d}_mask.tif", mask * 255)
    return folder


def run(source: Source, k: int, init: str, model: str, seed: int, out: Path, epochs: int,
        snapshots: tuple[int, ...] = SNAPSHOT_EPOCHS, weights: str = "best", lr: float = 2e-4) -> list[dict[str, object]]:
    """One fine-tuning run and the test Dice at ``snapshots`` epochs of its best-so-far checkpoints
    (``weights="best"``, the paper's tables) or of the weights as they were then (``"current"``:
    a learning curve); each row also holds the seconds per epoch of the epochs trained in this
    call (NaN when a finished run is only re-scored)."""
    pool, test = source.split()
    candidates = tiles(pool)
    order = np.random.default_rng(seed).permutation(len(candidates))
    if len(candidates) < k + 1:
        raise TooFewTiles(f"{source.name}: {len(candidates)} tiles show the class; k={k} needs {k + 1}")
    run_dir = out / "runs" / source.name / f"k{k}" / f"{init}-{model}" / f"seed{seed}"
    data = run_dir / "data"
    train_dir = write_pairs(data / "train", [candidates[i] for i in order[:k]])
    val_dir = write_pairs(data / "val", [candidates[order[k]]])
    config = finetune_config("segment", {"images_dir": train_dir, "masks_dir": train_dir,
                                         "val_images_dir": val_dir, "val_masks_dir": val_dir,
                                         "repeats": EPOCH_CROPS // k}, init=init, model=model,
                             overrides={"epochs": epochs, "batch_size": 8,
                                        "checkpoint_every_n_epochs": 1 if any(e % 5 for e in snapshots) else 5,
                                        "out_dir": str(run_dir), "seed": seed, "device": "auto",
                                        "data": {"crop_px": TILE_PX}, "optimiser": {"lr": lr}})
    last = run_dir / "checkpoints" / "last.ckpt"
    done_before = torch.load(last, map_location="cpu", weights_only=False)["epoch"] + 1 if last.is_file() else 0
    started = time.perf_counter()
    result = train(config, progress=False)
    trained = epochs - done_before
    seconds_per_epoch = (time.perf_counter() - started) / trained if trained > 0 else float("nan")
    rows = []
    prefix = "best_epoch" if weights == "best" else "epoch"
    for snapshot in sorted((result.out_dir / "checkpoints").glob(f"{prefix}[0-9]*.ckpt")):
        epoch = int(snapshot.stem.removeprefix(prefix))
        if epoch not in snapshots:
            continue
        network = load_model(snapshot)
        score = float(np.mean([100 * dice(network.predict(image) > 0.5, mask > 0) for image, mask in test]))
        rows.append({"source": source.name, "k": k, "init": init, "model": model, "seed": seed,
                     "epoch": epoch, "dice": round(score, 2), "seconds_per_epoch": round(seconds_per_epoch, 2)})
    return rows


def trivial_rows(source: Source) -> list[dict[str, object]]:
    """The Dice of calling every test pixel foreground: what a network must beat (dense sources
    such as packed tetrahedra score high with it)."""
    _, test = source.split()
    score = float(np.mean([100 * dice(np.ones_like(mask, bool), mask > 0) for _, mask in test]))
    return [{"source": source.name, "k": k, "init": "all-foreground", "model": "-", "seed": 0, "epoch": epoch,
             "dice": round(score, 2), "seconds_per_epoch": 0.0} for k in (1, 2, 4) for epoch in SNAPSHOT_EPOCHS]


def summarise(rows: list[dict[str, object]], out: Path) -> Path:
    """table.md: mean ± std per (source, k, init, model) and epoch; pretrained minus random."""
    def values(**match: object) -> list[float]:
        return [float(r["dice"]) for r in rows if all(r[key] == value for key, value in match.items())]

    groups = sorted({(r["source"], r["k"], r["init"], r["model"]) for r in rows})
    lines = ["| source | k | init | model | " + " | ".join(f"epoch {e}" for e in SNAPSHOT_EPOCHS) + " |",
             "|---|---:|---|---|" + "---:|" * len(SNAPSHOT_EPOCHS)]
    for source, k, init, model in groups:
        cells = []
        for epoch in SNAPSHOT_EPOCHS:
            v = values(source=source, k=k, init=init, model=model, epoch=epoch)
            cells.append(f"{np.mean(v):.1f} ± {np.std(v):.1f}" if v else "-")
        lines.append(f"| {source} | {k} | {init} | {model} | " + " | ".join(cells) + " |")
    lines += ["", "Pretrained minus random, same model and seed (Dice points, mean ± std):", "",
              "| source | k | model | " + " | ".join(f"epoch {e}" for e in SNAPSHOT_EPOCHS) + " |",
              "|---|---:|---|" + "---:|" * len(SNAPSHOT_EPOCHS)]
    for source, k, model in sorted({(s, k, m) for s, k, i, m in groups if i == "pretrained"}):
        cells = []
        for epoch in SNAPSHOT_EPOCHS:
            by_seed = {i: {int(r["seed"]): float(r["dice"]) for r in rows if (r["source"], r["k"], r["model"], r["epoch"],
                                                                                r["init"]) == (source, k, model, epoch, i)}
                       for i in ("pretrained", "random")}
            deltas = [by_seed["pretrained"][s] - by_seed["random"][s] for s in by_seed["pretrained"] if s in by_seed["random"]]
            cells.append(f"{np.mean(deltas):+.1f} ± {np.std(deltas):.1f}" if deltas else "-")
        lines.append(f"| {source} | {k} | {model} | " + " | ".join(cells) + " |")
    path = out / "table.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def figure(rows: list[dict[str, object]], out: Path) -> Path:
    """Dice at epoch 5 against k, per source: pretrained and random (mean ± std over seeds)."""
    sources = sorted({str(r["source"]) for r in rows})
    fig = Figure(figsize=(3.2 * len(sources), 3))
    axes = np.atleast_1d(fig.subplots(1, len(sources), squeeze=False)[0])
    for axis, source in zip(axes, sources):
        for init, model in sorted({(r["init"], r["model"]) for r in rows if r["source"] == source}):
            ks = sorted({int(r["k"]) for r in rows if r["source"] == source})
            stats = [[float(r["dice"]) for r in rows if (r["source"], r["k"], r["init"], r["model"], r["epoch"])
                      == (source, k, init, model, SNAPSHOT_EPOCHS[0])] for k in ks]
            axis.errorbar(ks, [np.mean(s) for s in stats], [np.std(s) for s in stats], marker="o", capsize=3,
                          label=f"{init} {model}")
        axis.set(title=source, xlabel="labelled tiles k", ylabel=f"test Dice (%), epoch {SNAPSHOT_EPOCHS[0]}",
                 xscale="log", xticks=[1, 2, 4], xticklabels=["1", "2", "4"])
        axis.legend(fontsize=7)
    fig.tight_layout()
    return save_png(out / "fewshot.png", fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/fewshot-real"))
    parser.add_argument("--sources", nargs="+", choices=list(SOURCES), default=list(SOURCES))
    parser.add_argument("--k", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--runs", nargs="+", default=["pretrained:hrnet", "random:hrnet"],
                        help="INIT:MODEL pairs (INIT: pretrained, random or a checkpoint)")
    parser.add_argument("--epochs", type=int, default=max(SNAPSHOT_EPOCHS))
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate (RESULTS.md: 1e-3 suits 1-4 tiles)")
    parser.add_argument("--weights", choices=["current", "best"], default="current",
                        help="score the weights after each snapshot epoch (default) or the best-so-far checkpoint "
                             "by the one validation tile (the paper's protocol; with one tile it often stays at epoch 1)")
    args = parser.parse_args()
    if not REAL.is_dir():
        raise SystemExit(f"{REAL}: the real labelled images are not here")
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.csv"
    rows: list[dict[str, object]] = []
    if results.is_file():  # resumable: a finished (source, k, init, model, seed) is not run again
        with open(results, newline="", encoding="utf-8") as file:
            rows = [{**r, "k": int(r["k"]), "seed": int(r["seed"]), "epoch": int(r["epoch"])}
                    for r in csv.DictReader(file)]
    done = {(r["source"], r["k"], r["init"], r["model"], r["seed"]) for r in rows}
    for name in args.sources:
        for k in args.k:
            for spec in args.runs:
                init, model = spec.split(":")
                for seed in args.seeds:
                    if (name, k, init, model, seed) in done:
                        continue
                    try:
                        rows += run(SOURCES[name], k, init, model, seed, args.out, args.epochs,
                                    weights=args.weights, lr=args.lr)
                    except TooFewTiles as reason:
                        print(f"left out: {reason}", flush=True)
                        continue
                    with open(results, "w", newline="", encoding="utf-8") as file:
                        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
                        writer.writeheader()
                        writer.writerows(rows)
                    print(rows[-1], flush=True)
    trivial = [row for name in args.sources for row in trivial_rows(SOURCES[name])]
    print(summarise(rows + trivial, args.out), figure(rows, args.out))


if __name__ == "__main__":
    main()
