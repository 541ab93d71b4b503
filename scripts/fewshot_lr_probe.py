"""One few-shot run of ``scripts/fewshot_real.py``'s protocol at a chosen learning rate, scored at
epochs 2, 4, 5 and 10 (the weights after each epoch): the probe behind RESULTS.md's paragraph on
the fine-tuning learning rate.

    .venv/bin/python scripts/fewshot_lr_probe.py nanoprism-core --k 1 --init pretrained --lr 1e-3 --seed 0
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from dosewise.checkpoint import load_model
from dosewise.metrics import dice
from dosewise.training import train
from dosewise.training.finetune import finetune_config

import fewshot_real

SCORED_EPOCHS = (2, 4, 5, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source")
    parser.add_argument("--k", type=int, default=1)
    parser.add_argument("--init", default="pretrained")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("/work/fewshot-lr"))
    args = parser.parse_args()
    source = fewshot_real.SOURCES[args.source]
    pool, test = source.split()
    candidates = fewshot_real.tiles(pool)
    order = np.random.default_rng(args.seed).permutation(len(candidates))
    run_dir = args.work / f"{source.name}-k{args.k}-{args.init}-{args.lr:g}-s{args.seed}"
    shutil.rmtree(run_dir, ignore_errors=True)
    train_dir = fewshot_real.write_pairs(run_dir / "data" / "train", [candidates[i] for i in order[:args.k]])
    val_dir = fewshot_real.write_pairs(run_dir / "data" / "val", [candidates[order[args.k]]])
    config = finetune_config("segment", {"images_dir": train_dir, "masks_dir": train_dir, "val_images_dir": val_dir,
                                         "val_masks_dir": val_dir, "repeats": fewshot_real.EPOCH_CROPS // args.k},
                             init=args.init, model="hrnet",
                             overrides={"epochs": max(SCORED_EPOCHS), "batch_size": 8, "checkpoint_every_n_epochs": 1,
                                        "out_dir": str(run_dir), "seed": args.seed, "device": "cpu",
                                        "data": {"crop_px": fewshot_real.TILE_PX}, "optimiser": {"lr": args.lr}})
    train(config, progress=False)
    scores = {}
    for epoch in SCORED_EPOCHS:
        network = load_model(run_dir / "checkpoints" / f"epoch{epoch:03d}.ckpt")
        scores[epoch] = round(float(np.mean([100 * dice(network.predict(image) > 0.5, mask > 0)
                                             for image, mask in test])), 1)
    print(vars(args) | {"dice_by_epoch": scores}, flush=True)


if __name__ == "__main__":
    main()
