"""CPU training throughput of the HRTEM segmenters of Larsen et al. 2023 (issue 16, §2): the
paper's networks as built before the campaign, and the variants the campaign measured for speed
(BatchNorm in the U-Net, bfloat16 autocast, channels-last memory, the MSD-net's crop and batch).

Run: python benchmarks/bench_hrtem_training.py   (writes benchmarks/results/hrtem_training.md)
A training step: Adam + BCE-with-logits on random crops, 2 threads; images/s and megapixels/s
from the median of ``REPEATS`` steps per round after two warm-up steps. bfloat16 autocast is
timed at batch 2, one step after one warm-up, in the first round only: on a CPU without bf16
instructions one U-Net step at batch 8 takes over a minute. The variants run in turn, round by
round, so a drift of the machine's speed touches them all; ratios are to the first row of the
same network family, measured in the same run.
"""

from __future__ import annotations

import datetime
import os
import statistics
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch

from bench_models import cpu_model
from dosewise.models import ModelConfig, build_model

RESULTS = Path(__file__).parent / "results" / "hrtem_training.md"
REPEATS, ROUNDS = 3, 2
MSD = {"depth": 50, "kernel_size": 3, "dilations": "random", "max_dilation": 10}


@dataclass
class Variant:
    family: str
    label: str
    options: dict[str, object]
    name: str
    crop_px: int = 128
    batch: int = 8
    bf16: bool = False
    channels_last: bool = False
    slow: bool = False
    """Timed once (first round, one step after one warm-up): too slow to repeat."""
    step_s: list[float] = field(default_factory=list)

    def images_per_s(self) -> float:
        return self.batch / statistics.median(self.step_s)

    def megapixels_per_s(self) -> float:
        return self.images_per_s() * self.crop_px**2 / 1e6


VARIANTS = [
    Variant("U-Net", "madsen-unet (paper: no norm; lr 1e-4), fp32", {}, "madsen-unet"),
    Variant("U-Net", "madsen-unet-bn (lr 1e-3), fp32", {"norm": "batch"}, "madsen-unet"),
    Variant("U-Net", "madsen-unet-bn, bf16 autocast", {"norm": "batch"}, "madsen-unet", batch=2, bf16=True,
            slow=True),
    Variant("U-Net", "madsen-unet-bn, channels-last", {"norm": "batch"}, "madsen-unet", channels_last=True),
    Variant("MSD-net", "msdnet 3x3, crop 128 / batch 8, fp32", MSD, "msdnet"),
    Variant("MSD-net", "msdnet 3x3, crop 96 / batch 14, fp32", MSD, "msdnet", crop_px=96, batch=14),
    Variant("MSD-net", "msdnet 3x3, bf16 autocast", MSD, "msdnet", batch=2, bf16=True, slow=True),
    Variant("MSD-net", "msdnet 3x3, channels-last", MSD, "msdnet", channels_last=True),
]


def time_steps(variant: Variant, repeats: int, warmups: int) -> list[float]:
    torch.manual_seed(0)
    model = build_model(ModelConfig(name=variant.name, options=variant.options)).train()
    memory = torch.channels_last if variant.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(variant.batch, 1, variant.crop_px, variant.crop_px).to(memory_format=memory)
    y = (torch.rand_like(x) > 0.5).float()

    def step() -> None:
        optimiser.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16) if variant.bf16 else nullcontext():
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x).float(), y)
        loss.backward()
        optimiser.step()

    for _ in range(warmups):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    torch.set_num_threads(2)
    for round_ in range(ROUNDS):
        for variant in VARIANTS:
            if variant.slow and round_ > 0:
                continue
            variant.step_s += time_steps(variant, *((1, 1) if variant.slow else (REPEATS, 2)))
            print(round_, variant.label, f"{variant.images_per_s():.2f} images/s", flush=True)
    references = {}
    lines = [
        "# HRTEM segmenter training throughput (Larsen et al. 2023 networks; issue 16)",
        "",
        "- command: `python benchmarks/bench_hrtem_training.py`",
        f"- machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}; torch {torch.__version__}, 2 threads",
        f"- date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        f"- one step: Adam + BCE-with-logits on random crops; median of {REPEATS * ROUNDS} steps "
        f"({ROUNDS} rounds over all variants) after 2 warm-up steps each; bf16 rows: one step after one "
        "warm-up; ratio of Mpx/s to the family's first row",
        "",
        "| network | variant | crop x batch | step s | images/s | Mpx/s | x first |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in VARIANTS:
        reference = references.setdefault(v.family, v.megapixels_per_s())
        lines.append(f"| {v.family} | {v.label} | {v.crop_px}² x {v.batch} | {statistics.median(v.step_s):.2f} | "
                     f"{v.images_per_s():.2f} | {v.megapixels_per_s():.3f} | {v.megapixels_per_s() / reference:.2f} |")
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
