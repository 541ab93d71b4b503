"""Validation error per training minute: the two-stage generator against the residual U-Net.

    nice -n 19 .venv/bin/python benchmarks/race_supersamplers.py --generator dlss-two-stage --threads 1 &
    nice -n 19 .venv/bin/python benchmarks/race_supersamplers.py --generator dlss-residual-unet --threads 1
    .venv/bin/python benchmarks/race_supersamplers.py --table

Each generator trains from scratch on the supersampler campaign's data and recipe (the
``widened`` corpus, seed 0), in chunks ending at ``--minutes`` training minutes; after each
chunk the network (uncalibrated) and bilinear are scored on held-out simulated ADF-STEM
(stores from ``dosewise simulate stem`` with other seeds) and on the real full scans the
campaign never trains on, Ede 2020's blurred targets. Run the two side by side with one
thread each so that both get the same share of the machine. Results:
``benchmarks/results/supersample-race-<generator>.json`` and ``supersample-race.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from dosewise.analysis.interpolation import baseline_methods
from dosewise.analysis.supersample_eval import evaluate_supersampling, load_eval_images
from dosewise.config import SupersampleConfig
from dosewise.infer.supersample import Supersampler
from dosewise.io import atomic_write
from dosewise.training import train_supersampler

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import train_default_supersampler as campaign  # noqa: E402  (the campaign's recipe and data)

RESULTS = Path(__file__).parent / "results"
GENERATORS = {"dlss-two-stage": {"name": "dlss-two-stage", "in_channels": 2},
              "dlss-residual-unet": {"name": "dlss-residual-unet", "in_channels": 2,
                                     "options": {"width": 24, "levels": 3}}}


def ratios(checkpoint: Path, images: list) -> dict[str, float]:
    methods = {"bilinear": baseline_methods()["bilinear"],
               "network": Supersampler(checkpoint, device="cpu", calibrate=False).method()}
    rows = evaluate_supersampling(images, methods, campaign.EVAL_STEPS).rows()
    return {str(r["coverage"]): round(float(r["ratio_to_bilinear"]), 4) for r in rows if r["method"] == "network"}


def race(generator: str, minutes: list[float], work: Path, sim_test: list[Path]) -> Path:
    run_dir = work / f"race-{generator}"
    simulated = load_eval_images([], sim_test, crop_px=256)
    real = load_eval_images(campaign.evaluation_scans(), crop_px=256)
    rows = []
    for budget in minutes:
        config = campaign.recipe(work, run_dir, budget, corpus="widened")
        config = SupersampleConfig.validate_dict({**config.model_dump(mode="json"), "model": GENERATORS[generator]})
        result = train_supersampler(config, progress=False)
        rows.append({"minutes": budget, "global_step": int(torch.load(result.last_checkpoint, map_location="cpu",
                                                                          weights_only=True)["global_step"]),
                     "simulated": ratios(result.last_checkpoint, simulated),
                     "real": ratios(result.last_checkpoint, real)})
        print(rows[-1], flush=True)
    path = RESULTS / f"supersample-race-{generator}.json"
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps({"generator": generator, "rows": rows}, indent=1), encoding="utf-8")
    return path


def table() -> Path:
    lines = ["Network / bilinear root-MSE after each number of training minutes (from scratch, one thread "
             "each, side by side), held-out simulated ADF-STEM and real scans, 1/16 | 1/100.", "",
             "| generator | minutes | steps | simulated 1/16 | simulated 1/100 | real 1/16 | real 1/100 |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for path in sorted(RESULTS.glob("supersample-race-*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        for row in record["rows"]:
            lines.append(f"| {record['generator']} | {row['minutes']:g} | {row['global_step']} | "
                         f"{row['simulated']['1/16']:.3f} | {row['simulated']['1/100']:.3f} | "
                         f"{row['real']['1/16']:.3f} | {row['real']['1/100']:.3f} |")
    path = RESULTS / "supersample-race.md"
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", choices=list(GENERATORS))
    parser.add_argument("--minutes", type=float, nargs="+", default=[3.0, 6.0, 12.0])
    parser.add_argument("--work", type=Path, default=Path("/work/campaign-supersample"))
    parser.add_argument("--sim-test", type=Path, nargs="+", default=[Path("/work/stem/test.zarr")])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.generator:
        campaign.prepare(args.work, 1500)
        print(race(args.generator, args.minutes, args.work, args.sim_test))
    if args.table:
        print(table().read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
