"""Train the denoiser that ships in the package: ``src/dosewise/weights/denoise-default.ckpt``.

    .venv/bin/python scripts/train_default_denoiser.py [--work DIR] [--minutes 20] [--seed 0]

Reproducible and seeded; runs on a 2-core CPU (or a GPU when present, device=auto).

Training data (all simulated, clean intensities with vacuum / support ≈ 1, written to
``<work>/clean.zarr``, resumable):
- Au/CeO2 HRTEM (Larsen et al. 2023 simulator, 0.25 Å/px, lattice fringes, detector MTF mtf4): 40
  structures x 3 optics variants;
- bright-field nanoparticle fields at low magnification (mass-thickness contrast, no
  fringes, :mod:`dosewise.simulate.particle_fields`): 240 fields;
- ADF-STEM atomic-column images (incoherent model, noise-free with background): 160 images.
Each training crop is re-noised with shot noise at a dose drawn log-uniformly in
1..100 e-/px (``ExtraNoise``), so one model covers that whole range. Network: fast-unet
(pixel-unshuffle U-Net, ~150 k parameters). L1 loss; the target is the clean image divided by
its mean, so the output is the denoised intensity relative to the frame's mean level.

The checkpoint is slimmed to what ``dosewise.load_model`` needs (weights, recipe, record).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from dosewise.config import HrtemDatasetConfig, StemDatasetConfig
from dosewise.checkpoint import slim_checkpoint
from dosewise.io import DatasetStore
from dosewise.simulate import simulate_hrtem_dataset
from dosewise.simulate.particle_fields import particle_field
from dosewise.simulate.stem_dataset import simulate_stem_dataset
from dosewise.training import train
from dosewise.training.denoise import denoise_config

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "src" / "dosewise" / "weights" / "denoise-default.ckpt"
SIZE_PX = 256
DOSE_RANGE_E_PER_PX = (1.0, 100.0)


def build_clean_store(work: Path, seed: int) -> Path:
    """One store of clean, mean-normalised images from the three simulators."""
    out = work / "clean.zarr"
    store = DatasetStore.create(out, attrs={"kind": "denoise-clean", "seed": seed})
    hrtem = simulate_hrtem_dataset(work / "hrtem.zarr",
                                   HrtemDatasetConfig(n_structures=40, variants_per_structure=3, size_px=SIZE_PX,
                                                      pixel_size_A=0.25, mtf="mtf4", seed=seed),
                                   workers=2).path
    stem = simulate_stem_dataset(work / "stem.zarr", StemDatasetConfig(n_images=160, size_px=SIZE_PX, seed=seed)).path
    for prefix, path, array in (("hrtem", hrtem, "clean"), ("stem", stem, "noise_free")):
        source = DatasetStore.open(path)
        for sample_id in source.ids():
            if not store.has(f"{prefix}_{sample_id}"):
                _write(store, f"{prefix}_{sample_id}", source.sample(sample_id).array(array), {"source": prefix})
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    for index in range(240):
        key = f"field_{index:04d}"
        image = particle_field(SIZE_PX, rng)  # drawn even when stored, so later fields stay the same
        if not store.has(key):
            _write(store, key, image, {"source": "particle_field"})
    return out


def _write(store: DatasetStore, key: str, image: np.ndarray, metadata: dict) -> None:
    image = np.clip(np.asarray(image, np.float32), 0.0, None)
    store.write_sample(key, {"clean": image / max(float(image.mean()), 1e-6)}, metadata)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/dosewise-default-denoiser"))
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="fast-unet",
                        help="registry network (benchmarks train the resnet18-unet of "
                             "Katsuno et al. 2022 the same way)")
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help="where the slimmed checkpoint goes")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    store = build_clean_store(args.work, args.seed)
    config = denoise_config(store, kind="simulated", model=args.model, crop_px=128,
                            extra_noise_dose_e_per_px=DOSE_RANGE_E_PER_PX, overrides={
                                "epochs": 1000, "max_minutes": args.minutes, "batch_size": 16,
                                "out_dir": str(args.work / ("run" if args.model == "fast-unet" else f"run-{args.model}")), "seed": args.seed,
                                "optimiser": {"lr": 1e-3}, "data": {"rotations": True, "val_fraction": 0.1}})
    result = train(config, resume=True)
    path = slim_checkpoint(result.best_checkpoint or result.last_checkpoint, args.weights)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB); metrics {result.metrics}")


if __name__ == "__main__":
    main()
