"""Training and inference speed of the partial-scan generators on this CPU (issue 14, §3).

    .venv/bin/python benchmarks/bench_supersample_speed.py [--repeats 10] [--threads 2]

Training: one optimiser step (forward, loss on the filled-in pixels, backward, Adam) at
batch 8 of 128x128 crops, steps drawn from 1/16-1/100 on a random lattice offset, as the
campaign trains; fp32 and bf16 autocast, channels-last where it helps. Inference: one
512x512 frame at 1/25 through :class:`dosewise.Supersampler` (256 px tiles, 64 px overlap),
fp32. Untrained weights: speed does not depend on them. The reference is the unified
two-stage generator of Ede 2020 (``dlss-two-stage``, the default before issue 14) in fp32,
measured in the same run, round-robin with the candidates so machine load hits all alike.

Writes benchmarks/results/supersample-speed.md (printed).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from dosewise.checkpoint import LoadedSupersampler
from dosewise.models import ModelConfig, count_parameters
from dosewise.data.partial_scans import lattice_mask, network_input
from dosewise.infer.supersample import Supersampler
from dosewise.models.dlss import build_supersampler

RESULTS = Path(__file__).parent / "results" / "supersample-speed.md"
BATCH, CROP_PX, FRAME_PX, STEPS = 8, 128, 512, (4, 5, 6, 7, 8, 9, 10)
GENERATORS = {
    "dlss-two-stage": ModelConfig(name="dlss-two-stage", in_channels=2),
    "dlss-residual-unet": ModelConfig(name="dlss-residual-unet", in_channels=2,
                                      options={"width": 24, "levels": 3}),
}
REFERENCE = ("dlss-two-stage", "fp32")
RESIDUAL = "dlss-residual-unet"


def training_batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    inputs, targets = [], []
    for _ in range(BATCH):
        image = rng.random((CROP_PX, CROP_PX), dtype=np.float32)
        step = int(rng.choice(STEPS))
        mask = lattice_mask(image.shape, step, (int(rng.integers(step)), int(rng.integers(step))))
        inputs.append(network_input(image, mask))
        targets.append(image[None])
    return torch.from_numpy(np.stack(inputs)), torch.from_numpy(np.stack(targets))


def training_step(name: str, precision: str) -> Callable[[], None]:
    network = build_supersampler(GENERATORS[name]).train()
    channels_last = precision == "bf16"
    if channels_last:
        network = network.to(memory_format=torch.channels_last)
    optimiser = torch.optim.Adam(network.parameters(), lr=1e-4)
    x, target = training_batch()
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else nullcontext

    def step() -> None:
        optimiser.zero_grad(set_to_none=True)
        with autocast():
            output = network(x)
            output = output[0] if isinstance(output, tuple) else output
            output = torch.where(x[:, 1:2] > 0.5, target, output.float())
            loss = ((output - target) ** 2).mean()
        loss.backward()
        optimiser.step()

    return step


def inference(name: str, calibrate: bool) -> Callable[[], object]:
    network = build_supersampler(GENERATORS[name]).eval()
    supersampler = Supersampler(LoadedSupersampler(network, GENERATORS[name], list(STEPS), 2.5), device="cpu",
                                calibrate=calibrate)
    image = np.random.default_rng(1).random((FRAME_PX, FRAME_PX), dtype=np.float32)
    mask = lattice_mask(image.shape, 5, (0, 0))
    return lambda: supersampler(np.where(mask, image, 0.0), mask)


def interleaved_medians(candidates: dict[tuple[str, str], Callable[[], object]], repeats: int) -> dict:
    for fn in candidates.values():
        fn(), fn()
    times: dict[tuple[str, str], list[float]] = {key: [] for key in candidates}
    for _ in range(repeats):
        for key, fn in candidates.items():
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    return {key: statistics.median(values) for key, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train = interleaved_medians({(name, precision): training_step(name, precision)
                                 for name in GENERATORS for precision in ("fp32", "bf16")}, args.repeats)
    infer = interleaved_medians({(name, "uncalibrated"): inference(name, False) for name in GENERATORS}
                                | {(RESIDUAL, "self-calibrated"): inference(RESIDUAL, True)}, args.repeats)
    mpx = FRAME_PX * FRAME_PX / 1e6
    lines = [f"# Partial-scan generator speed ({datetime.date.today()}, {platform.node()})", "",
             f"Command: `.venv/bin/python benchmarks/bench_supersample_speed.py --repeats {args.repeats} "
             f"--threads {args.threads}`; {os.cpu_count()} CPUs, {args.threads} torch threads, "
             f"torch {torch.__version__}; medians of {args.repeats} interleaved runs.", "",
             f"Training: one optimiser step at batch {BATCH} of {CROP_PX}² crops (bf16 rows: autocast + "
             "channels-last).", "",
             "| generator | parameters | precision | s / step | steps / s | speed-up vs two-stage fp32 |",
             "|---|---:|---|---:|---:|---:|"]
    for (name, precision), seconds in train.items():
        params = count_parameters(build_supersampler(GENERATORS[name]))
        lines.append(f"| {name} | {params / 1e6:.2f} M | {precision} | {seconds:.3f} | {1 / seconds:.2f} | "
                     f"{train[REFERENCE] / seconds:.2f}x |")
    lines += ["", f"Inference: one {FRAME_PX}² frame at 1/25 through `Supersampler` (256 px tiles, 64 px overlap), "
              "fp32; self-calibrated: the network once on the scan and once on each of the four "
              "sub-lattices of twice the step (the shipped default).", "",
              "| generator | inference | ms / frame | Mpx / s | speed-up vs two-stage |", "|---|---|---:|---:|---:|"]
    for (name, mode), seconds in infer.items():
        lines.append(f"| {name} | {mode} | {seconds * 1e3:.0f} | {mpx / seconds:.2f} | "
                     f"{infer[(REFERENCE[0], 'uncalibrated')] / seconds:.2f}x |")
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
