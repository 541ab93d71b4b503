"""Which training data make the supersampler transfer to real scans: short ablations.

    nice -n 19 .venv/bin/python scripts/ablate_supersampler.py --variant widened --minutes 12 --threads 1
    .venv/bin/python scripts/ablate_supersampler.py --table

Every variant continues the same starting checkpoint (``--start``, by default the campaign's
committed one) for the same number of minutes with one recipe option changed, then is
scored like the campaign: network / bilinear root-MSE on the real full scans it never
trained on, per coverage, and per image (the 2 % rule of issue 14). Results go to
``results/supersample-ablation/<variant>-from-<start>min.json``; ``--table`` writes ``table.md`` from them.
Seeded: a variant run twice from the same checkpoint sees the same crops.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from dosewise.io import atomic_write
from dosewise.training import train_supersampler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_default_supersampler as campaign  # noqa: E402  (the campaign's recipe and data)

OUT = campaign.REPO / "results" / "supersample-ablation"
VARIANTS: dict[str, dict[str, object]] = {
    "atomic": {"corpus": "atomic"},  # chunks 1-3 of the campaign
    "atomic+invert": {"corpus": "atomic", "invert_probability": 0.3},
    "widened": {"corpus": "widened"},  # + coarse STEM + particle fields + inversion (the campaign's)
    "widened-no-real": {"corpus": "widened", "real": False},
    "widened-lr3e-4": {"corpus": "widened", "lr": 3e-4},
    "widened-real-x100": {"corpus": "widened", "folder_repeats": 100},  # real scans ~4 % of crops, not 0.04 %
    "widened-real-x100-blur": {"corpus": "widened", "folder_repeats": 100, "probe_blur_probability": 0.4},
}


def score(checkpoint: Path) -> dict[str, object]:
    """Ratio to bilinear per coverage, pooled and per real scan."""
    evaluation = campaign.evaluate_real(checkpoint)
    if evaluation is None:
        raise SystemExit(f"no real scans to score on: {campaign.REAL_STEM} is missing")
    pooled = {f"1/{r['step'] ** 2}": round(float(r["ratio_to_bilinear"]), 4)
              for r in evaluation.rows() if r["method"] == "dosewise"}
    per_image = {name: {f"1/{s * s}": round(float(np.sqrt(evaluation.mse[("dosewise", s)][i]
                                                            / evaluation.mse[("bilinear", s)][i])), 4)
                        for s in campaign.EVAL_STEPS}
                 for i, name in enumerate(evaluation.images)}
    return {"ratio_to_bilinear": pooled, "per_image": per_image}


def run_variant(name: str, start: Path, minutes: float, work: Path) -> Path:
    run_dir = work / f"ablation-{name}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    (run_dir / "checkpoints").mkdir(parents=True)
    shutil.copyfile(start, run_dir / "checkpoints" / "last.ckpt")
    start_minutes = torch.load(start, map_location="cpu", weights_only=False)["callbacks"]
    elapsed_s = next(v["time_elapsed"]["train"] for k, v in start_minutes.items() if "Timer" in k)
    config = campaign.recipe(work, run_dir, elapsed_s / 60 + minutes, **VARIANTS[name])  # type: ignore[arg-type]
    result = train_supersampler(config, progress=False)
    record = {"variant": name, "options": VARIANTS[name], "start": str(start), "start_minutes": elapsed_s / 60,
              "minutes": minutes, "val_mse": result.metrics.get("val/mse"), **score(result.last_checkpoint)}
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}-from-{elapsed_s / 60:.0f}min.json"
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return path


def table() -> Path:
    """One table per starting checkpoint (a round of ablations), oldest first."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(OUT.glob("*.json"))]
    records.sort(key=lambda r: (round(r["start_minutes"]), list(VARIANTS).index(r["variant"])))
    coverages = [f"1/{s * s}" for s in campaign.EVAL_STEPS]
    text = "Network / bilinear root-MSE on the real scans never trained on, per round of ablations.\n"
    for start in sorted({round(r["start_minutes"]) for r in records}):
        group = [r for r in records if round(r["start_minutes"]) == start]
        text += (f"\nEvery variant continued the same {start}-minute checkpoint for {group[0]['minutes']:g} "
                 "minutes.\n\n| variant | " + " | ".join(coverages) + " | worst image (coverage) |\n|---|"
                 + "---:|" * (len(coverages) + 1) + "\n")
        for r in group:
            worst = max(((v, img, c) for img, row in r["per_image"].items() for c, v in row.items()))
            text += (f"| {r['variant']} | " + " | ".join(f"{r['ratio_to_bilinear'][c]:.3f}" for c in coverages)
                     + f" | {worst[0]:.2f} ({worst[1].split('__')[0]}, {worst[2]}) |\n")
    path = OUT / "table.md"
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", choices=list(VARIANTS))
    parser.add_argument("--table", action="store_true", help="collect the variants' results into table.md")
    parser.add_argument("--start", type=Path, default=campaign.REPO / "campaigns" / "supersample-default" / "last.ckpt")
    parser.add_argument("--minutes", type=float, default=12.0)
    parser.add_argument("--work", type=Path, default=Path("/work/campaign-supersample"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.variant:
        campaign.prepare(args.work, 1500)
        print(run_variant(args.variant, args.start, args.minutes, args.work), flush=True)
    if args.table:
        print(table())


if __name__ == "__main__":
    main()
