"""Pretrain the encoder dosewise ships for few-shot fine-tuning, in chunks that survive sessions.

    nice -n 19 .venv/bin/python scripts/pretrain_foundation.py --hours 2 [--commit]
    nice -n 19 .venv/bin/python scripts/pretrain_foundation.py --pretext dae --hours 2 [--commit]
    .venv/bin/python scripts/pretrain_foundation.py --hours 0 --ship   # the shipped weights

Two pretexts on every kind of image dosewise simulates, plus the real micrographs whose licence
lets shipped weights learn from them: ``gan``, Kazimi et al. 2024's Pix2Pix (the generator
restores a corrupted crop, LSGAN + 100·L1 against a conditional PatchGAN, classic corruption), and
``dae``, the Kazimi et al. abstract's denoising autoencoder (the generator alone, L1, Poisson noise
at 1-100 e⁻/px through an MTF 4 detector: the corruption a low-dose micrograph really has). The
generator's weights are what ``dosewise finetune --init pretrained`` starts from.

Seeded and resumable: the campaign's state is ``campaigns/pretrain-<model>[-dae]/`` (committed as it
goes): ``last.ckpt`` (the run's latest Lightning checkpoint, its Adam moments stored in bfloat16
to halve the file; restored to float32 on resume), ``log.csv`` (one row per chunk: CPU-minutes,
epochs, validation L1 of the generator and of the corrupted input itself) and ``curve.png``.

The corpus (``prepare``), all at 256² px; ``--work`` holds it, rebuilt identically anywhere:
- HRTEM of Au particles on CeO2 (abTEM multislice, ``dosewise simulate hrtem``): 60 structures
  x 4 images, 0.1-0.5 Å/px, 1e2-1e6 e⁻/Å²;
- ADF-STEM crystals (``dosewise simulate stem``): 400 images, every material, 1e2-1e5 e⁻/Å²;
- nanoparticle fields, bright-field TEM and ADF-STEM (``dosewise simulate particles``): 800
  images, 1-1e4 e⁻/px, spheres to prisms, touching or not, on amorphous support;
- the MIT-licensed real micrographs of ``../shared/data/real`` (Katsuno et al. 2022 low-dose TEM
  exposures, Ede & Beanland 2020 partial-STEM full scan, AtomSegNet STEM crop), cut into 128²
  tiles; never a mask, never a file of another licence (they evaluate, see RESULTS.md).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
import tifffile
import torch
from matplotlib.figure import Figure

from dosewise.checkpoint import slim_checkpoint
from dosewise.config import PretrainConfig
from dosewise.io import read_image
from dosewise.report.style import save_png
from dosewise.simulate import (
    HrtemDatasetConfig,
    ParticleDatasetConfig,
    StemDatasetConfig,
    simulate_hrtem_dataset,
    simulate_particle_dataset,
    simulate_stem_dataset,
)
from dosewise.training.pretrain import pretrain

from campaign_tools import chunks, commit, pack, read_log, unpack

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
WEIGHTS = REPO / "src" / "dosewise" / "weights"
MIT_IMAGES = ("lowdose_tem/katsuno_LDE__train_0001__exposureA.tif",
              "lowdose_tem/katsuno_LDE__train_0002__exposureB.tif",
              "stem/partialstem__truth-1.tif",
              "stem/atomsegnet__03_afterimage_8nm_crp.png")
"""The real images of an MIT-licensed source (../shared/data/real/PROVENANCE.md), masks excluded."""
SEED = 0
TILE_PX = 128
HRTEM_STRUCTURES, HRTEM_VARIANTS, STEM_IMAGES, PARTICLE_IMAGES = 60, 4, 400, 800
MODELS = {"hrnet": {"name": "hrnet"}}
"""The architectures the campaign pretrains; HRNet gained most from pretraining in RESULTS.md."""


def prepare(work: Path, workers: int = 2) -> dict[str, int]:
    """The simulated stores (each resumable) and the real tiles; returns images per source."""
    work.mkdir(parents=True, exist_ok=True)
    simulate_particle_dataset(work / "particles.zarr", ParticleDatasetConfig(
        n_images=PARTICLE_IMAGES, size_px=256, seed=SEED), workers=workers, progress=False)
    simulate_stem_dataset(work / "stem.zarr", StemDatasetConfig(
        n_images=STEM_IMAGES, size_px=256, seed=SEED), workers=workers, progress=False)
    simulate_hrtem_dataset(work / "hrtem.zarr", HrtemDatasetConfig(
        n_structures=HRTEM_STRUCTURES, variants_per_structure=HRTEM_VARIANTS, size_px=256,
        pixel_size_A=(0.1, 0.5), seed=SEED), workers=workers, progress=False)
    counts = {"hrtem": HRTEM_STRUCTURES * HRTEM_VARIANTS, "stem": STEM_IMAGES, "particles": PARTICLE_IMAGES}
    counts["real_mit_tiles"] = write_real_tiles(work / "real_mit")
    return counts


def write_real_tiles(folder: Path) -> int:
    """Non-overlapping ``TILE_PX`` tiles of every MIT-licensed real image (so a 512² file
    weighs 16 crops per epoch, not one); 0 without ../shared."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for name in MIT_IMAGES:
        path = REAL / name
        if not path.is_file():
            continue
        image = np.asarray(read_image(path).data, dtype=np.float32)
        for row in range(0, image.shape[0] - TILE_PX + 1, TILE_PX):
            for col in range(0, image.shape[1] - TILE_PX + 1, TILE_PX):
                tile = folder / f"{path.stem}__r{row:04d}c{col:04d}.tif"
                if not tile.is_file():
                    tifffile.imwrite(tile, image[row:row + TILE_PX, col:col + TILE_PX])
                count += 1
    return count


def recipe(work: Path, run_dir: Path, minutes: float, model: str, pretext: str = "gan") -> PretrainConfig:
    """Either pretext at a CPU's scale: batch 8 of 128² crops, Adam 2e-4 (β1 0.5); ``gan`` with
    classic corruption (Gaussian noise + blur) and a 32-channel PatchGAN, ``dae`` with Poisson
    noise."""
    folders = [str(work / "real_mit")] if any((work / "real_mit").glob("*.tif")) else []
    return PretrainConfig.validate_dict({
        "pretext": pretext,
        "corruption": {"kind": "poisson" if pretext == "dae" else "classic"},
        "model": {**MODELS[model], "in_channels": 1, "out_channels": 1},
        "data": {"stores": [str(work / n) for n in ("hrtem.zarr", "stem.zarr", "particles.zarr")],
                 "folders": folders, "store_key": "noisy", "crop_px": 128, "val_fraction": 0.03},
        "gan": {"discriminator_channels": 32},
        "epochs": 100000, "max_minutes": minutes, "batch_size": 8, "device": "auto",
        "checkpoint_every_n_epochs": 1, "out_dir": str(run_dir), "seed": SEED,
    })


def input_l1(run_dir: Path) -> float:
    """The validation L1 of the corrupted input itself, the pretext's do-nothing baseline."""
    from dosewise.training.pretrain import UnlabeledDataModule

    config = PretrainConfig.from_yaml(run_dir / "config.yaml")
    data = UnlabeledDataModule(config).val_set
    return float(np.mean([torch.mean(torch.abs(x - y)).item() for x, y in (data[i] for i in range(len(data)))]))


def write_log(campaign: Path, rows: list[dict[str, object]], baseline_l1: float) -> None:
    with open(campaign / "log.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=["chunk", "cpu_minutes", "epoch", "val_l1", "input_l1"])
        writer.writeheader()
        writer.writerows(rows)
    fig = Figure(figsize=(5, 3.5))
    axis = fig.subplots()
    axis.plot([float(r["cpu_minutes"]) for r in rows], [float(r["val_l1"]) for r in rows], "o-",
              label="generator")
    axis.axhline(baseline_l1, color="k", lw=0.8, ls="--", label="corrupted input")
    axis.set(xlabel="training minutes (2 CPU cores)", ylabel="validation L1 (held-out crops)",
             title="Pretext: restore a corrupted crop")
    axis.legend(fontsize=8)
    fig.tight_layout()
    save_png(campaign / "curve.png", fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, required=True, help="training time of this invocation")
    parser.add_argument("--model", choices=list(MODELS), default="hrnet")
    parser.add_argument("--pretext", choices=["gan", "dae"], default="gan")
    parser.add_argument("--chunk-minutes", type=float, default=60.0, help="minutes between saves and commits (the packed checkpoint is ~18 MB)")
    parser.add_argument("--work", type=Path, default=Path("/work/campaign-pretrain"),
                        help="big files: simulated stores, real tiles, Lightning logs (not committed)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--commit", action="store_true", help="git-commit the campaign folder after each chunk")
    parser.add_argument("--ship", action="store_true",
                        help="only write the campaign's generator, slimmed, to src/dosewise/weights/ (no training)")
    args = parser.parse_args()
    campaign = REPO / "campaigns" / f"pretrain-{args.model}{'' if args.pretext == 'gan' else '-' + args.pretext}"
    if args.ship:
        work_copy = args.work / "ship" / "last.ckpt"
        unpack(campaign / "last.ckpt", work_copy)
        print(slim_checkpoint(work_copy, WEIGHTS / f"pretrained-{campaign.name.removeprefix('pretrain-')}.ckpt",
                              keep_prefix="network."), flush=True)
        return
    torch.set_num_threads(args.threads)
    campaign.mkdir(parents=True, exist_ok=True)
    print("corpus:", prepare(args.work), flush=True)
    run_dir = args.work / f"run-{campaign.name.removeprefix('pretrain-')}"
    last = run_dir / "checkpoints" / "last.ckpt"
    if not last.is_file() and (campaign / "last.ckpt").is_file():
        unpack(campaign / "last.ckpt", last)
    log = read_log(campaign)
    done = float(log[-1]["cpu_minutes"]) if log else 0.0
    stop = time.monotonic() + args.hours * 3600
    baseline = float(log[-1]["input_l1"]) if log else float("nan")
    for chunk in chunks(stop, args.chunk_minutes):
        result = pretrain(recipe(args.work, run_dir, done + chunk, args.model, args.pretext), progress=False)
        done += chunk
        pack(result.last_checkpoint, campaign / "last.ckpt")
        if not np.isfinite(baseline):
            baseline = input_l1(run_dir)
        epoch = torch.load(result.last_checkpoint, map_location="cpu", weights_only=False)["epoch"] + 1
        row: dict[str, object] = {"chunk": len(log) + 1, "cpu_minutes": f"{done:.1f}", "epoch": epoch,
                                  "val_l1": f"{result.metrics.get('val/l1', float('nan')):.5f}",
                                  "input_l1": f"{baseline:.5f}"}
        log.append(row)  # type: ignore[arg-type]
        write_log(campaign, log, baseline)  # type: ignore[arg-type]
        print(row, flush=True)
        if args.commit:
            commit(campaign, f"pretraining campaign ({args.model}): {done:.0f} training minutes, "
                   f"validation L1 {row['val_l1']} (corrupted input {baseline:.4f})")


if __name__ == "__main__":
    main()
