"""Size, receptive field and CPU speed of every registry model; MSD-net memory vs depth.

Run: python benchmarks/bench_models.py   (writes benchmarks/results/models.md)
Forward: one 1x1x512x512 image, torch.inference_mode, median of 5 after a warm-up.
Training step: batch 8 of 256x256, Adam + BCE-with-logits, float32, median of 3 after a warm-up.
Peak memory: peak-RSS growth (VmHWM) of a fresh subprocess doing one forward+backward (batch 2, 256x256).
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from dosewise.models import ModelConfig, build_model, count_parameters, list_models, receptive_field_px

RESULTS = Path(__file__).parent / "results" / "models.md"
REFERENCE = "resnet18-unet"


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def forward_ms(model: torch.nn.Module) -> float:
    model.eval()
    x = torch.randn(1, 1, 512, 512)
    with torch.inference_mode():
        return median_ms(lambda: model(x), 5)


def train_step_ms(model: torch.nn.Module) -> float:
    model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-4)
    x, y = torch.randn(8, 1, 256, 256), (torch.rand(8, 1, 256, 256) > 0.5).float()

    def step() -> None:
        optimiser.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(x), y).backward()
        optimiser.step()

    return median_ms(step, 3)


def msd_peak_mb(depth: int) -> float:
    """Peak RSS growth of one training forward+backward, in a fresh process.

    The kernel's peak-RSS counter (VmHWM) is reset through /proc/self/clear_refs after the
    model is built, so the import-time peak does not hide the step's own peak.
    """
    code = (
        "import torch\n"
        "from dosewise.models import ModelConfig, build_model\n"
        "def kb(key):\n"
        "    line = next(l for l in open('/proc/self/status') if l.startswith(key))\n"
        "    return int(line.split()[1])\n"
        "torch.set_num_threads(2)\n"
        f"m = build_model(ModelConfig(name='msdnet', options={{'depth': {depth}}}))\n"
        "x = torch.randn(2, 1, 256, 256)\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "base = kb('VmRSS')\n"
        "m(x).square().mean().backward()\n"
        "print((kb('VmHWM') - base) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    torch.set_num_threads(2)
    torch.manual_seed(0)
    rows = {}
    for name in list_models():
        config = ModelConfig(name=name)
        model = build_model(config)
        rows[name] = (count_parameters(model), receptive_field_px(config), forward_ms(model), train_step_ms(model))
        print(name, rows[name], flush=True)
    ref = rows[REFERENCE]
    lines = [
        "# Model benchmark (dosewise.models)",
        "",
        "- command: `python benchmarks/bench_models.py`",
        f"- machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}; torch {torch.__version__}, 2 threads",
        f"- date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        "- forward: 1x1x512x512, inference_mode, median of 5 after warm-up; train step: batch 8 of "
        "256x256, Adam + BCE-with-logits, float32 (no autocast), median of 3 after warm-up",
        "- default options of every model; ratios are to smp's ResNet18-U-Net "
        "(Katsuno et al. 2022)",
        "",
        "| model | parameters | RF (px) | forward ms | x ref | train step ms | x ref |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, (params, rf, fwd, train) in rows.items():
        lines.append(f"| {name} | {params:,} | {rf} | {fwd:.0f} | {fwd / ref[2]:.2f} | {train:.0f} | {train / ref[3]:.2f} |")
    lines += ["", "MSD-net peak training memory (forward+backward, batch 2 of 256x256, peak-RSS growth):", "",
              "| depth | peak MB | MB per layer |", "|---|---|---|"]
    for depth in (25, 50, 100):
        mb = msd_peak_mb(depth)
        lines.append(f"| {depth} | {mb:.0f} | {mb / depth:.2f} |")
        print("msdnet depth", depth, mb, flush=True)
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
