"""Fine-tuning CPU-minutes to reach 90 % of the final Dice: shipped pretrained HRNet vs random.

    .venv/bin/python benchmarks/bench_finetune_speed.py [--source au-tetrahedra] [--k 2] [--seeds 0 1 2]

The few-shot regime of ``scripts/fewshot_real.py`` (k labelled 128² tiles of a real source, 32
crops an epoch, Adam 2e-4, 20 epochs, test Dice on image regions training never saw), with the
best-so-far checkpoint of *every* epoch scored. Both initialisations train the same network on the
same crops, so an epoch costs the same; the seconds per epoch are measured in this run, runs of
the two kinds alternating so that machine load falls on both alike. The curve is the test Dice of
the weights after each epoch (not the best-so-far checkpoint: with one validation tile that one
often stops at epoch 1).

Two targets: 90 % of the run's own final (epoch-20) Dice, and 90 % of the better of the two
initialisations' mean final Dice (a common bar; a run that never reaches it is reported so).
Writes ``benchmarks/results/finetune_speed.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import platform
import sys
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results"
EPOCHS = 20


def _fewshot():
    """``scripts/fewshot_real.py`` as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("fewshot_real", ROOT / "scripts" / "fewshot_real.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fewshot_real"] = module
    spec.loader.exec_module(module)
    return module


def first_epoch_at(curve: dict[int, float], bar: float) -> int | None:
    """The first epoch whose best-so-far test Dice reaches ``bar``."""
    return next((epoch for epoch in sorted(curve) if curve[epoch] >= bar), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="au-tetrahedra")
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--work", type=Path, default=Path("/work/bench-finetune"))
    args = parser.parse_args()
    fewshot = _fewshot()
    source = fewshot.SOURCES[args.source]
    if len(fewshot.tiles(source.split()[0])) < args.k + 1:
        raise SystemExit(f"{source.name}: too few tiles show the class for k={args.k} (it needs {args.k + 1})")
    runs: dict[tuple[str, int], dict[str, object]] = {}
    for seed in args.seeds:
        for init in ("pretrained", "random"):
            rows = fewshot.run(source, args.k, init, "hrnet", seed, args.work, EPOCHS,
                               snapshots=tuple(range(1, EPOCHS + 1)), weights="current")
            runs[(init, seed)] = {"curve": {int(r["epoch"]): float(r["dice"]) for r in rows},
                                  "seconds_per_epoch": float(rows[0]["seconds_per_epoch"])}
            print(init, seed, runs[(init, seed)], flush=True)
    # both initialisations train the same network on the same crops: one cost per epoch, the
    # median over the runs that trained in this invocation (a resumed run timed only its tail)
    measured = [run["seconds_per_epoch"] for run in runs.values() if np.isfinite(run["seconds_per_epoch"])]
    seconds_per_epoch = float(np.median(measured)) if measured else float("nan")
    finals = {init: float(np.mean([runs[(init, s)]["curve"][EPOCHS] for s in args.seeds]))
              for init in ("pretrained", "random")}
    common_bar = 0.9 * max(finals.values())
    table_rows = []
    for (init, seed), run in runs.items():
        curve, spe = run["curve"], seconds_per_epoch
        own = first_epoch_at(curve, 0.9 * curve[EPOCHS])
        common = first_epoch_at(curve, common_bar)
        table_rows.append({"init": init, "seed": seed, "final_dice": curve[EPOCHS], "seconds_per_epoch": spe,
                           "minutes_to_90pct_own": own * spe / 60 if own else None,
                           "minutes_to_common_bar": common * spe / 60 if common else None})
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "finetune_speed.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(table_rows[0]))
        writer.writeheader()
        writer.writerows(table_rows)

    def median(init: str, key: str) -> str:
        values = [r[key] for r in table_rows if r["init"] == init]
        reached = [v for v in values if v is not None]
        text = f"{np.median(reached):.2f}" if reached else "never"
        return text + (f" ({len(reached)}/{len(values)} runs)" if len(reached) < len(values) else "")

    lines = [f"# Fine-tuning speed, pretrained vs random ({date.today()}, {platform.node()})", "",
             f"Command: `.venv/bin/python benchmarks/bench_finetune_speed.py --source {args.source} --k {args.k} "
             f"--seeds {' '.join(map(str, args.seeds))}`; HRNet, {EPOCHS} epochs of 32 crops, seeds as listed, "
             "medians over seeds.", "",
             "| init | final test Dice (%) | s / epoch | CPU-minutes to 90 % of own final | "
             f"CPU-minutes to {common_bar:.1f} % (90 % of the better final) |",
             "|---|---:|---:|---:|---:|"]
    for init in ("pretrained", "random"):
        lines.append(f"| {init} | {finals[init]:.1f} | {median(init, 'seconds_per_epoch')} | "
                     f"{median(init, 'minutes_to_90pct_own')} | {median(init, 'minutes_to_common_bar')} |")
    (OUT / "finetune_speed.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
