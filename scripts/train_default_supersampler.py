"""Train the shipped partial-scan supersampler, in chunks that survive the end of a session.

    nice -n 19 .venv/bin/python scripts/train_default_supersampler.py --hours 2 [--commit]
    .venv/bin/python scripts/train_default_supersampler.py --hours 0 --ship   # the shipped weights

Seeded and resumable: the campaign's state is ``campaigns/supersample-default/`` (committed
to the repository as it goes): ``last.ckpt`` (the run's latest Lightning checkpoint),
``log.csv`` (one row per chunk: CPU-minutes, epochs, validation MSE, and network / bilinear
root-MSE on real scans it never trained on, per coverage) and ``curve.png``. A later session
on a fresh machine restores ``last.ckpt`` into the work folder and continues exactly there.

Training data (all within their licences, see ../shared/data/real/PROVENANCE.md), the
``widened-real-blur`` corpus (``--corpus`` names the earlier ones, see ``CORPORA``):
- a simulated ADF-STEM store (``dosewise simulate stem``, noise-free key) at 0.08-0.2 Å/px;
- a second one at 0.3-1.5 Å/px, where lattices sit near the Nyquist limit of the scan;
- clean low-magnification particle fields (mass-thickness contrast, no lattice);
- the MIT-licensed real full scans (Jeffrey-Ede/partial-STEM truth crops, AtomSegNet), when
  ``../shared`` is present, each drawn as 100 crops per epoch;
with the artefacts of real scans drawn per crop (``data.degradations``: probe blur, contrast
inversion for bright-field detectors, zoom resampling, line jitter and offsets, drift shear, Poisson +
readout noise).
Evaluation uses every other real full scan in ``../shared/data/real/stem`` (never a file the
model trained on), with Ede 2020's blurred targets, against exact-lattice bilinear.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from dosewise.analysis.interpolation import baseline_methods
from dosewise.analysis.supersample_eval import SupersampleEvaluation, evaluate_supersampling, load_eval_images
from dosewise.checkpoint import slim_checkpoint
from dosewise.config import StemDatasetConfig, SupersampleConfig
from dosewise.infer.supersample import Supersampler
from dosewise.io import DatasetStore
from dosewise.report.style import save_png
from dosewise.simulate import simulate_stem_dataset
from dosewise.simulate.particle_fields import particle_field
from dosewise.training import train_supersampler

from campaign_tools import chunks, commit

REPO = Path(__file__).resolve().parents[1]
REAL_STEM = REPO.parent / "shared" / "data" / "real" / "stem"
SHIPPED = REPO / "src" / "dosewise" / "weights" / "supersample-default.ckpt"
MIT_SCANS = ("partialstem__truth-1.tif", "atomsegnet__03_afterimage_8nm_crp.png")
# derived files (an author's partial scan and its mask), not full scans to evaluate on
NOT_FULL_SCANS = ("partialstem__partial_scan-1.tif", "partialstem__mask-1.tif")
STEPS = (4, 5, 6, 7, 8, 9, 10)
# + the steps twice as coarse as 1/64-1/100, where the self-calibration check of a 1/64-1/100 scan runs
# (``infer.supersample``: sub-lattices of twice the step); untrained there, its trust was noise.
# The served steps are listed twice so they keep ~3/4 of the crops.
CALIBRATION_STEPS = (*STEPS, *STEPS, 12, 14, 16, 18, 20)
EVAL_STEPS = (4, 5, 6, 8, 10)
SEED = 0
STORE_KEY = "noise_free"
COARSE_IMAGES, FIELDS = 150, 600
CORPORA: dict[str, dict[str, object]] = {
    "atomic": {"corpus": "atomic"},  # chunks 1-3
    "widened": {"corpus": "widened"},  # chunks 4-6
    # the MIT real scans drawn 100 times per epoch (4 % of crops, not 0.04 %): ablation round 2
    "widened-real": {"corpus": "widened", "folder_repeats": 100},
    # + probe blur on 40 % of crops (broad real columns; ablation round 2): from chunk 9
    "widened-real-blur": {"corpus": "widened", "folder_repeats": 100, "probe_blur_probability": 0.4},
    # + training at the self-calibration check's coarser steps: from chunk 10
    "widened-real-blur-calib": {"corpus": "widened", "folder_repeats": 100, "probe_blur_probability": 0.4,
                                "steps": CALIBRATION_STEPS},
    # the same at a fifth of the learning rate: chunks 10-16 at 1e-3 swung 0.85-1.10 at 1/64 from
    # chunk to chunk, the noise of a step size too large to settle: from chunk 17
    "widened-real-blur-calib-lr2e-4": {"corpus": "widened", "folder_repeats": 100, "probe_blur_probability": 0.4,
                                       "steps": CALIBRATION_STEPS, "lr": 2e-4},
}
"""The recipes the campaign has run under ``--corpus``, by name (the log's corpus column)."""


def recipe(work: Path, run_dir: Path, minutes: float, *, corpus: str = "widened", real: bool = True,
           invert_probability: float | None = None, lr: float = 1e-3, precision: str = "32",
           folder_repeats: int = 1, probe_blur_probability: float = 0.0,
           steps: tuple[int, ...] = STEPS) -> SupersampleConfig:
    """The campaign's recipe; the keyword options are what the ablations vary. Contrast
    inversion belongs to the widened corpus (0.3) unless ``invert_probability`` says otherwise."""
    if invert_probability is None:
        invert_probability = 0.3 if corpus == "widened" else 0.0
    folders = [str(work / "real_mit")] if real and (work / "real_mit").is_dir() else []
    stores = [work / "stem.zarr"] + ([work / "stem-coarse.zarr", work / "fields.zarr"] if corpus == "widened" else [])
    return SupersampleConfig.validate_dict({
        "model": {"name": "dlss-residual-unet", "in_channels": 2, "options": {"width": 24, "levels": 3}},
        "data": {"stores": [str(p) for p in stores], "folders": folders, "store_key": STORE_KEY,
                 "crop_px": 128, "steps": list(steps), "val_fraction": 0.05, "folder_repeats": folder_repeats,
                 "degradations": {"enabled": True, "invert_probability": invert_probability,
                                  "probe_blur_probability": probe_blur_probability}},
        "optimiser": {"lr": lr},
        "epochs": 100000, "max_minutes": minutes, "batch_size": 8, "precision": precision,
        "device": "auto", "checkpoint_every_n_epochs": 5, "out_dir": str(run_dir), "seed": SEED,
    })


def build_fields(path: Path, n_fields: int, size_px: int = 256) -> None:
    """Clean low-magnification particle fields, in a store under the STEM stores' array key."""
    store = DatasetStore.create(path, attrs={"kind": "particle-fields", "seed": SEED})
    rng = np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(11,)))
    for index in range(n_fields):
        image = particle_field(size_px, rng)  # drawn even when stored, so later fields stay the same
        key = f"field_{index:04d}"
        if not store.has(key):
            store.write_sample(key, {STORE_KEY: image}, {"source": "particle_field", "index": index})


def prepare(work: Path, n_images: int) -> None:
    """The simulated stores (resumable) and the MIT real scans."""
    work.mkdir(parents=True, exist_ok=True)
    simulate_stem_dataset(work / "stem.zarr", StemDatasetConfig(n_images=n_images, size_px=256, seed=SEED),
                          workers=2, progress=False)
    simulate_stem_dataset(work / "stem-coarse.zarr",
                          StemDatasetConfig(n_images=COARSE_IMAGES, size_px=256, seed=SEED + 1,
                                            pixel_size_range_A=(0.3, 1.5)), workers=2, progress=False)
    build_fields(work / "fields.zarr", FIELDS)
    if REAL_STEM.is_dir():
        (work / "real_mit").mkdir(exist_ok=True)
        for name in MIT_SCANS:
            if (REAL_STEM / name).is_file():
                shutil.copyfile(REAL_STEM / name, work / "real_mit" / name)


def restore(checkpoint: Path, run_dir: Path) -> None:
    """Start ``run_dir`` from a committed checkpoint unless it already has its own."""
    last = run_dir / "checkpoints" / "last.ckpt"
    if not last.is_file() and checkpoint.is_file():
        last.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(checkpoint, last)


def evaluation_scans() -> list[Path]:
    """Every real full scan the model never trained on (empty without ../shared)."""
    if not REAL_STEM.is_dir():
        return []
    return [p for p in sorted(REAL_STEM.iterdir())
            if p.name not in MIT_SCANS + NOT_FULL_SCANS and p.suffix.lower() != ".md"]


def evaluate_real(checkpoint: Path, *, calibrate: bool = False) -> SupersampleEvaluation | None:
    """The checkpoint ("dosewise") and bilinear on the real scans it never trained on; the
    network as trained unless ``calibrate`` (the log follows training, not the trust gate)."""
    paths = evaluation_scans()
    if not paths:
        return None
    methods = {"bilinear": baseline_methods()["bilinear"],
               "dosewise": Supersampler(checkpoint, device="cpu", calibrate=calibrate).method()}
    return evaluate_supersampling(load_eval_images(paths, crop_px=256), methods, EVAL_STEPS)


def evaluate(checkpoint: Path) -> dict[int, float]:
    """Network / bilinear root-MSE per step on real scans the model never trained on."""
    evaluation = evaluate_real(checkpoint)
    if evaluation is None:
        return {}
    return {int(r["step"]): float(r["ratio_to_bilinear"]) for r in evaluation.rows() if r["method"] == "dosewise"}


def print_evaluation(checkpoint: Path) -> None:
    """Network / bilinear root-MSE per coverage, pooled and per real scan, as trained and self-calibrated."""
    for calibrate in (False, True):
        evaluation = evaluate_real(checkpoint, calibrate=calibrate)
        if evaluation is None:
            raise SystemExit(f"{REAL_STEM}: no real scans to evaluate on")
        print("self-calibrated" if calibrate else "as trained", "pooled", " ".join(
            f"1/{int(r['step']) ** 2} {float(r['ratio_to_bilinear']):.3f}"
            for r in evaluation.rows() if r["method"] == "dosewise"))
        for index, name in enumerate(evaluation.images):
            print(f"  {name[:44]:44s}", " ".join(
                f"{np.sqrt(evaluation.mse[('dosewise', s)][index] / evaluation.mse[('bilinear', s)][index]):.3f}"
                for s in evaluation.steps))


def read_log(campaign: Path) -> list[dict[str, str]]:
    path = campaign / "log.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as file:
        return [{"corpus": "atomic", **row} for row in csv.DictReader(file)]  # chunks 1-3 predate the column


def write_log(campaign: Path, rows: list[dict[str, object]]) -> None:
    columns = ["chunk", "cpu_minutes", "corpus", "epoch", "val_mse", *(f"real_ratio_1/{s * s}" for s in EVAL_STEPS)]
    with open(campaign / "log.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    fig = Figure(figsize=(9, 3.5))
    left, right = fig.subplots(1, 2)
    minutes = [float(r["cpu_minutes"]) for r in rows]
    left.plot(minutes, [float(r["val_mse"]) for r in rows], "o-")
    left.set(xlabel="training minutes", ylabel="validation MSE (simulated + MIT crops)")
    for step in EVAL_STEPS:
        key = f"real_ratio_1/{step * step}"
        values = [float(r[key]) if r.get(key) not in (None, "") else np.nan for r in rows]
        right.plot(minutes, values, "o-", label=f"1/{step * step}")
    right.axhline(1.0, color="k", lw=0.8)
    right.axhline(0.85, color="k", lw=0.8, ls="--")
    right.set(xlabel="training minutes", ylabel="network / bilinear RMSE, real scans")
    right.legend(fontsize=8)
    fig.tight_layout()
    save_png(campaign / "curve.png", fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, required=True, help="training time of this invocation")
    parser.add_argument("--chunk-minutes", type=float, default=20.0, help="minutes between saves and commits")
    parser.add_argument("--work", type=Path, default=Path("/work/campaign-supersample"),
                        help="big files: simulated store, Lightning logs (not committed)")
    parser.add_argument("--campaign", type=Path, default=REPO / "campaigns" / "supersample-default",
                        help="small files committed as the campaign goes: last.ckpt, log.csv, curve.png")
    parser.add_argument("--images", type=int, default=1500, help="simulated STEM images (fine pixels)")
    parser.add_argument("--corpus", choices=list(CORPORA), default="widened-real-blur-calib-lr2e-4",
                        help="widened-real-blur-calib-lr2e-4 (default since chunk 17: lr 1e-3 -> 2e-4), "
                             "widened-real-blur-calib (chunks 10-16: + steps 12-20), "
                             "widened-real-blur (chunk 9: + probe blur), widened-real (chunks 7-8: "
                             "real scans drawn 100x per epoch), widened (chunks 4-6) or atomic (chunks 1-3)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", choices=("32", "bf16-mixed"), default="32",
                        help="bf16-mixed only on CPUs with bf16 units (AVX512-BF16/AMX): chunks 1-3 ran it "
                             "there; on AVX2-only CPUs it is ~10x slower (benchmarks/bench_supersample_speed.py)")
    parser.add_argument("--commit", action="store_true", help="git-commit the campaign folder after each chunk")
    parser.add_argument("--ship", action="store_true",
                        help="only write the campaign's last.ckpt, slimmed, to src/dosewise/weights/ (no training)")
    parser.add_argument("--evaluate", type=Path, metavar="CKPT",
                        help="only score CKPT on the real evaluation scans, as trained and self-calibrated, per image")
    args = parser.parse_args()
    if args.evaluate:
        print_evaluation(args.evaluate)
        return
    if args.ship:
        print(slim_checkpoint(args.campaign / "last.ckpt", SHIPPED), flush=True)
        return
    torch.set_num_threads(args.threads)
    campaign = args.campaign
    campaign.mkdir(parents=True, exist_ok=True)
    prepare(args.work, args.images)
    run_dir = args.work / "run"
    restore(campaign / "last.ckpt", run_dir)
    log = read_log(campaign)
    done = float(log[-1]["cpu_minutes"]) if log else 0.0
    stop = time.monotonic() + args.hours * 3600
    for chunk in chunks(stop, args.chunk_minutes):
        result = train_supersampler(recipe(args.work, run_dir, done + chunk, precision=args.precision,
                                           **CORPORA[args.corpus]), progress=False)  # type: ignore[arg-type]
        done += chunk
        shutil.copyfile(result.last_checkpoint, campaign / "last.ckpt")
        ratios = evaluate(result.last_checkpoint)
        row: dict[str, object] = {"chunk": len(log) + 1, "cpu_minutes": f"{done:.1f}", "corpus": args.corpus,
                                  "epoch": torch.load(result.last_checkpoint, map_location="cpu",
                                                      weights_only=True)["epoch"] + 1,
                                  "val_mse": f"{result.metrics.get('val/mse', float('nan')):.6g}"}
        row.update({f"real_ratio_1/{s * s}": f"{ratios[s]:.4f}" for s in ratios})
        log.append(row)
        write_log(campaign, log)
        print(row, flush=True)
        if args.commit:
            commit(campaign, f"supersampler campaign: {done:.0f} training minutes, real-scan ratio to bilinear "
                   + ", ".join(f"1/{s * s} {ratios[s]:.3f}" for s in ratios))


if __name__ == "__main__":
    main()
