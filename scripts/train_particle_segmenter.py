"""Train the particle segmenter that ships in the package: ``weights/segment-particles.ckpt``.

    nice -n 19 .venv/bin/python scripts/train_particle_segmenter.py --minutes 30   # resumable
    .venv/bin/python scripts/train_particle_segmenter.py --evaluate CKPT           # scores only
    .venv/bin/python scripts/train_particle_segmenter.py --ship                    # the shipped weights

``dosewise segment image.dm4 -o out/`` uses it when no ``--model`` is given: nanoparticles in
bright-field TEM (dark on bright) and ADF-STEM (bright on dark) alike; the network sees both
polarities in training, so it decides from the image itself.

Fine-tuned from the shipped pretrained HRNet (``weights/pretrained-hrnet.ckpt``, Kazimi et al.
2024's Pix2Pix pretext) on simulated, labelled particle fields (``dosewise simulate particles
--modality both``: spheres to prisms, touching or not, on amorphous support, 1-1e4 e⁻/px, detector
MTF and readout). No real image teaches it: the real labelled sources of ``../shared/data/real``
have no licence that would let shipped weights learn from them; they are the evaluation.

Seeded; the run resumes from ``<work>/run/checkpoints/last.ckpt`` (``--minutes`` is the total).
The evaluation writes ``results/segment-particles/table.md`` and ``scores.json``: Dice per held-out
simulated modality and per real source, each image also inverted (the other polarity), next to
Otsu's threshold with the polarity taken from the image (the classical answer a microscopist has).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from skimage.filters import gaussian, threshold_otsu

from dosewise.checkpoint import load_model, slim_checkpoint
from dosewise.config import ParticleDatasetConfig
from dosewise.data.datasets import binary_mask
from dosewise.infer.segmentation import segment
from dosewise.io import DatasetStore, read_image, read_mask
from dosewise.metrics import dice
from dosewise.simulate import simulate_particle_dataset
from dosewise.training import train
from dosewise.training.finetune import finetune_config

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real" / "np_segmentation"
SHIPPED = REPO / "src" / "dosewise" / "weights" / "segment-particles.ckpt"
RESULTS = REPO / "results" / "segment-particles"
SEED = 0
TRAIN_IMAGES, TEST_IMAGES, SIZE_PX = 1200, 48, 256
REAL_SOURCES = {
    # name: (file stems, class id of the particles in the mask, imaging mode)
    "chenlab Au tetrahedra (BF-TEM)": (("chenlab_Au-tetrahedra__3-Au-tetra-2-30k-3-10",), 1),
    "chenlab patchy nanoprism cores (BF-TEM)": (("chenlab_patchy-nanoprism__2.5-50",), 1),
    "ArdaGen Pt on alumina (HAADF-STEM tomogram slices)": (("ardagen_Pt-alumina__train_20012_p00",
                                                            "ardagen_Pt-alumina__train_20004_p01"), 2),
}
"""The labelled real nanoparticle sources (../shared/data/real/PROVENANCE.md); evaluation only."""


def simulate(work: Path) -> tuple[Path, Path]:
    """The training store and a held-out store of another seed (both resumable)."""
    train_store = work / "particles.zarr"
    simulate_particle_dataset(train_store, ParticleDatasetConfig(n_images=TRAIN_IMAGES, size_px=SIZE_PX, seed=SEED + 1),
                              workers=2, progress=False)
    test_store = work / "particles-test.zarr"
    simulate_particle_dataset(test_store, ParticleDatasetConfig(n_images=TEST_IMAGES, size_px=SIZE_PX, seed=SEED + 2),
                              workers=2, progress=False)
    return train_store, test_store


def fine_tune(store: Path, work: Path, minutes: float) -> Path:
    """Fine-tune the shipped pretrained HRNet on ``store`` for ``minutes`` in all; the best checkpoint."""
    config = finetune_config("segment", store, init="pretrained", overrides={
        "epochs": 100000, "max_minutes": minutes, "batch_size": 8, "checkpoint_every_n_epochs": 1,
        "out_dir": str(work / "run"), "seed": SEED, "device": "auto",
        "data": {"crop_px": 128, "val_fraction": 0.05},
    })
    result = train(config, progress=False)
    return result.best_checkpoint


def otsu(image: np.ndarray) -> np.ndarray:
    """Otsu's threshold of the lightly smoothed image; particles are the minority side (the
    polarity a microscopist reads off the image: few dark blobs on a bright ground, or the reverse)."""
    smooth = gaussian(np.asarray(image, np.float64), sigma=2)
    above = smooth > threshold_otsu(smooth)
    return above if above.mean() < 0.5 else ~above


def real_pairs() -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    out = {}
    for name, (stems, class_id) in REAL_SOURCES.items():
        pairs = []
        for stem in stems:
            image_path = next(REAL.glob(f"{stem}__image.*"), None)
            mask_path = next(REAL.glob(f"{stem}__mask.*"), None)
            if image_path is None or mask_path is None:
                continue
            image = np.asarray(read_image(image_path).data, dtype=np.float32)
            pairs.append((image, binary_mask(read_mask(mask_path), class_id)[0] > 0))
        if pairs:
            out[name] = pairs
    return out


def simulated_pairs(store: Path) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    opened = DatasetStore.open(store)
    out: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for sample_id in opened.ids():
        sample = opened.sample(sample_id)
        kind = f"simulated {'BF-TEM' if sample.metadata['modality'] == 'bf' else 'ADF-STEM'} (held out)"
        out.setdefault(kind, []).append((sample.array("noisy"), sample.array("mask") > 0))
    return out


def count_errors(checkpoint: Path, test_store: Path) -> dict[str, float]:
    """How well touching particles are counted on the held-out simulations (true instance
    labels known): median relative count error of 8-connected regions and of the watershed
    split, on the true mask (the method's own limit) and on the network's mask."""
    from skimage.measure import label

    from dosewise.analysis.particles import split_touching

    model = load_model(checkpoint)
    opened = DatasetStore.open(test_store)
    errors: dict[str, list[float]] = {}
    for sample_id in opened.ids():
        sample = opened.sample(sample_id)
        true_count = len(np.unique(sample.array("labels"))) - 1
        if true_count == 0:
            continue
        masks = {"true mask": sample.array("mask") > 0, "network mask": segment(sample.array("noisy"), model).mask}
        for source, mask in masks.items():
            for method, count in (("connected regions", int(label(mask, connectivity=2).max())),
                                  ("watershed split", int(split_touching(mask).max()))):
                errors.setdefault(f"{method}, {source}", []).append(abs(count - true_count) / true_count)
    return {key: 100 * float(np.median(values)) for key, values in errors.items()}


DOSE_BANDS_E_PER_PX = ((1.0, 10.0), (10.0, 100.0), (100.0, 1000.0), (1000.0, 1e4))


def dose_bands(checkpoint: Path, test_store: Path) -> dict[str, dict[str, float]]:
    """Mean Dice (%) of the network on the held-out simulations per modality and dose band
    (e⁻/px at the support / particle peak): where the particles stop being findable."""
    model = load_model(checkpoint)
    opened = DatasetStore.open(test_store)
    scores: dict[str, dict[str, list[float]]] = {}
    for sample_id in opened.ids():
        sample = opened.sample(sample_id)
        dose = float(sample.metadata["dose_e_per_px"])
        band = next(f"{lo:g}-{hi:g}" for lo, hi in DOSE_BANDS_E_PER_PX if dose < hi or hi == DOSE_BANDS_E_PER_PX[-1][1])
        score = dice(segment(sample.array("noisy"), model).mask, sample.array("mask") > 0)
        scores.setdefault(str(sample.metadata["modality"]), {}).setdefault(band, []).append(100 * score)
    return {modality: {band: float(np.mean(v)) for band, v in sorted(bands.items(), key=lambda b: float(b[0].split("-")[0]))}
            for modality, bands in scores.items()}


def evaluate(checkpoint: Path, test_store: Path | None) -> dict[str, dict[str, float]]:
    """Mean Dice (%) per source: network and Otsu, each on the image and on its inverse."""
    model = load_model(checkpoint)
    sources = {**(simulated_pairs(test_store) if test_store is not None and test_store.exists() else {}),
               **real_pairs()}
    scores: dict[str, dict[str, float]] = {}
    for name, pairs in sources.items():
        rows = {"images": float(len(pairs))}
        for label, flip in (("", 1.0), (", inverted", -1.0)):
            network = [dice(segment(flip * image, model).mask, mask) for image, mask in pairs]
            classical = [dice(otsu(flip * image), mask) for image, mask in pairs]
            rows[f"network{label}"] = 100 * float(np.mean(network))
            rows[f"otsu{label}"] = 100 * float(np.mean(classical))
        scores[name] = rows
        print(name, {k: round(v, 1) for k, v in rows.items()}, flush=True)
    return scores


def write_table(scores: dict[str, dict[str, float]], counts: dict[str, float], checkpoint: Path) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scores.json").write_text(json.dumps({"checkpoint": checkpoint.name, "dice_percent": scores,
                                                     "median_count_error_percent": counts}, indent=2) + "\n",
                                         encoding="utf-8")
    lines = ["| source | images | network | network, inverted | Otsu | Otsu, inverted |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, row in scores.items():
        lines.append(f"| {name} | {int(row['images'])} | {row['network']:.1f} | {row['network, inverted']:.1f} | "
                     f"{row['otsu']:.1f} | {row['otsu, inverted']:.1f} |")
    lines += ["", "Particle count on the held-out simulations, median |counted - true| / true (%):", "",
              "| method | error (%) |", "|---|---:|"]
    lines += [f"| {key} | {value:.1f} |" for key, value in counts.items()]
    path = RESULTS / "table.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="training minutes in all (a resumed run adds the rest)")
    parser.add_argument("--work", type=Path, default=Path("/work/campaign-segment-particles"))
    parser.add_argument("--evaluate", type=Path, metavar="CKPT", help="only score CKPT (no training)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dose-bands", type=Path, metavar="CKPT",
                        help="only print CKPT's Dice per modality and dose band on the held-out simulations")
    parser.add_argument("--ship", action="store_true", help="only slim the run's best checkpoint into the package")
    args = parser.parse_args()
    if args.ship:
        print(slim_checkpoint(args.work / "run" / "checkpoints" / "best.ckpt", SHIPPED), flush=True)
        return
    torch.set_num_threads(args.threads)
    train_store, test_store = simulate(args.work)
    if args.dose_bands:
        print(json.dumps(dose_bands(args.dose_bands, test_store), indent=1), flush=True)
        return
    checkpoint = args.evaluate or fine_tune(train_store, args.work, args.minutes)
    print(write_table(evaluate(checkpoint, test_store), count_errors(checkpoint, test_store), checkpoint), flush=True)


if __name__ == "__main__":
    main()
