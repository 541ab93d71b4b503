"""``dosewise compare``: random vs pretrained initialisation, in the layout of Kazimi et al. 2024,
Tables 2-7 and Figures 6-9, 11.

For each model: pretrain on ``sizes`` unlabeled images each (P(N)), then fine-tune
from random weights (R) and from every P(N), once per seed. Every fine-tuning run
copies its best-so-far checkpoint every N epochs; each copy is scored on the test
images (Dice in % for segmentation, L1 for restoration), which is what the
paper's tables show. Every step resumes, so an interrupted grid picks up where it stopped.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dosewise.checkpoint import LoadedModel, load_model
from dosewise.config.experiments import CompareConfig
from dosewise.config.pretraining import PretrainConfig
from dosewise.config.training import TrainConfig
from dosewise.io import DatasetStore, atomic_write
from dosewise.metrics import dice
from dosewise.report.curves import seed_curves_figure
from dosewise.report.style import save_png
from dosewise.training.finetune import finetune_config, target_for
from dosewise.training.pretrain import pretrain
from dosewise.training.train import collect_curves, train


@dataclass(frozen=True)
class CompareResult:
    out_dir: Path
    rows: list[dict[str, Any]]
    table_md: Path
    table_csv: Path
    results_csv: Path
    curves_png: Path
    delta_md: Path


def metric_name(task: str) -> str:
    return "dice_percent" if task == "segment" else "l1"


def run_compare(config: CompareConfig, *, progress: bool = True) -> CompareResult:
    """Pretrain, fine-tune, evaluate and tabulate the whole grid."""
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config.to_yaml(out / "compare.yaml")
    rows: list[dict[str, Any]] = []
    curves: dict[tuple[str, str], list[dict[int, float]]] = defaultdict(list)
    val_metric = "val/dice" if config.task == "segment" else "val/l1"
    for model in config.models:
        for label, init in _initialisations(config, model, out, progress):
            for seed in config.seeds:
                run_dir = out / "finetune" / model / _slug(label) / f"seed{seed}"
                result = train(_finetune(config, model, init, seed, run_dir), resume=True, progress=progress)
                curves[(model, label)].append(collect_curves(result.out_dir / "logs").get(val_metric, {}))
                for epoch, value in _score_snapshots(config, result.out_dir / "checkpoints"):
                    rows.append({"model": model, "init": label, "seed": seed, "epoch": epoch,
                                 metric_name(config.task): value})
    results_csv = _write_rows(rows, out / "results.csv", config.task)
    table_csv, table_md = _write_table(rows, out, config)
    delta_md = _write_delta(rows, out / "pretrained_minus_random.md", config)
    curves_png = save_png(out / "validation_curves.png", seed_curves_figure(curves, val_metric))
    return CompareResult(out, rows, table_md, table_csv, results_csv, curves_png, delta_md)


def _slug(label: str) -> str:
    return label.replace("(", "").replace(")", "")


def _initialisations(config: CompareConfig, model: str, out: Path,
                     progress: bool) -> list[tuple[str, Path | None]]:
    inits: list[tuple[str, Path | None]] = [("R", None)]
    spec = config.pretrain
    if spec is None:
        return inits
    for size in spec.sizes:
        data = spec.data.model_copy(update={"max_images": size})
        pre = PretrainConfig(
            pretext=spec.pretext, model={"name": model}, data=data, corruption=spec.corruption,
            epochs=spec.epochs, max_minutes=spec.max_minutes, batch_size=spec.batch_size,
            device=config.device, precision=config.precision, num_workers=config.num_workers,
            checkpoint_every_n_epochs=config.checkpoint_every_n_epochs,
            out_dir=out / "pretrain" / f"{model}-P{size}", seed=config.seeds[0],
        )
        result = pretrain(pre, resume=True, progress=progress)
        inits.append((f"P({size})", result.best_checkpoint or result.last_checkpoint))
    return inits


def _finetune(config: CompareConfig, model: str, init: Path | None, seed: int,
              run_dir: Path) -> TrainConfig:
    overrides = {
        "epochs": config.epochs, "max_minutes": config.max_minutes, "batch_size": config.batch_size,
        "device": config.device, "precision": config.precision, "num_workers": config.num_workers,
        "checkpoint_every_n_epochs": config.checkpoint_every_n_epochs, "out_dir": str(run_dir),
        "seed": seed, "optimiser": config.optimiser.model_dump(mode="json"),
        "data": {"val_fraction": config.val_fraction, "max_train_samples": config.max_train_samples},
    }
    recipe = finetune_config(config.task, config.store, init=init, model=model, overrides=overrides)
    # crop_px None (whole images) is a value here, not "not given": set it explicitly.
    return recipe.model_copy(update={"data": recipe.data.model_copy(update={"crop_px": config.crop_px})})


def _score_snapshots(config: CompareConfig, ckpt_dir: Path) -> list[tuple[int, float]]:
    """(epoch, test metric) of every best-so-far snapshot ``best_epochNNN.ckpt``."""
    scores = []
    for path in sorted(ckpt_dir.glob("best_epoch*.ckpt")):
        epoch = int(path.stem.removeprefix("best_epoch"))
        scores.append((epoch, test_metric(load_model(path), config.test_store, config)))
    return scores


def test_metric(model: LoadedModel, store_path: Path, config: CompareConfig) -> float:
    """Mean over the test images: Dice in % (threshold 0.5) or L1 against the target."""
    store = DatasetStore.open(store_path)
    target_key = target_for(config.task, store_path)
    values = []
    for sample_id in store.ids():
        sample = store.sample(sample_id)
        output = model.predict(sample.array("noisy"))
        target = sample.array(target_key)
        if config.task == "segment":
            values.append(100.0 * dice(output > 0.5, target > 0))
        else:
            values.append(float(np.abs(output - target).mean()))
    return float(np.mean(values))


def _write_rows(rows: list[dict[str, Any]], path: Path, task: str) -> Path:
    columns = ["model", "init", "seed", "epoch", metric_name(task)]
    with atomic_write(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _grouped(rows: list[dict[str, Any]], task: str) -> dict[tuple[str, str], dict[int, list[float]]]:
    grouped: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        grouped[(row["model"], row["init"])][row["epoch"]].append(row[metric_name(task)])
    return grouped


def _format(values: list[float], task: str) -> str:
    digits = "{:.2f}" if task == "segment" else "{:.5f}"
    mean = digits.format(float(np.mean(values)))
    return mean if len(values) == 1 else f"{mean} ± {digits.format(float(np.std(values, ddof=1)))}"


def _write_table(rows: list[dict[str, Any]], out: Path, config: CompareConfig) -> tuple[Path, Path]:
    """Kazimi et al. 2024's layout: one row per (model, init), one column per checkpoint epoch."""
    grouped = _grouped(rows, config.task)
    epochs = sorted({row["epoch"] for row in rows})
    what = "Dice (%)" if config.task == "segment" else "L1"
    seeds = f"mean ± std over {len(config.seeds)} seeds" if len(config.seeds) > 1 else "one seed"
    lines = [f"Test {what} of the best-so-far checkpoint ({config.task}; {seeds})", "",
             "| model | init | " + " | ".join(str(e) for e in epochs) + " |",
             "|---|---|" + "---|" * len(epochs)]
    table_csv = out / "table.csv"
    with atomic_write(table_csv) as tmp, open(tmp, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["model", "init", *epochs])
        for (model, init), by_epoch in grouped.items():
            cells = [_format(by_epoch[e], config.task) if e in by_epoch else "" for e in epochs]
            lines.append(f"| {model} | {init} | " + " | ".join(cells) + " |")
            writer.writerow([model, init, *(float(np.mean(by_epoch[e])) if e in by_epoch else "" for e in epochs)])
    table_md = out / "table.md"
    with atomic_write(table_md) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table_csv, table_md


def pretrained_minus_random(rows: list[dict[str, Any]], task: str, epoch: int) -> list[dict[str, Any]]:
    """Per model and pretraining size: P - R at ``epoch``, paired by seed (mean, std, n)."""
    name = metric_name(task)
    by_key = {(r["model"], r["init"], r["seed"], r["epoch"]): r[name] for r in rows}
    out = []
    for model, init in sorted({(r["model"], r["init"]) for r in rows if r["init"] != "R"}):
        diffs = [value - by_key[(model, "R", seed, ep)] for (m, i, seed, ep), value in by_key.items()
                 if m == model and i == init and ep == epoch and (model, "R", seed, ep) in by_key]
        if diffs:
            std = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else math.nan
            out.append({"model": model, "init": init, "epoch": epoch, "mean": float(np.mean(diffs)),
                        "std": std, "n_seeds": len(diffs)})
    return out


def _write_delta(rows: list[dict[str, Any]], path: Path, config: CompareConfig) -> Path:
    epochs = sorted({row["epoch"] for row in rows})
    what = "Dice (percentage points)" if config.task == "segment" else "L1 (negative = pretrained better)"
    lines = [f"Pretrained minus random, {what}, paired by seed", "",
             "| model | init | epoch | mean | std | seeds |", "|---|---|---|---|---|---|"]
    for epoch in epochs:
        for d in pretrained_minus_random(rows, config.task, epoch):
            lines.append(f"| {d['model']} | {d['init']} | {d['epoch']} | {d['mean']:+.4g} | "
                         f"{d['std']:.3g} | {d['n_seeds']} |")
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
