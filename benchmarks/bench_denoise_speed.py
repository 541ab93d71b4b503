"""Per-frame denoising speed: the shipped model (torch, onnxruntime) against the ResNet18-U-Net
of Katsuno et al. 2022.

    .venv/bin/python benchmarks/bench_denoise_speed.py [--model CKPT] [--repeats 30] [--gpu]

One 512x512 frame of shot noise at 5 e-/px, end to end through :class:`dosewise.Denoiser`
(normalisation, one 512 tile, de-normalisation), median of ``--repeats`` after two warm-up
frames. The reference is segmentation-models-pytorch's ``Unet("resnet18")`` in PyTorch fp32
on the same 512x512 input (plain forward, no tiling, so the reference is not slowed by our
code), measured in the same run and interleaved with the candidates so that machine noise
affects both alike. Threads: torch's default (all cores).

``--gpu`` (CUDA only) also measures ms per frame including host-device transfer at batch 1
and at the best of batches 1..64, torch bf16/fp16 channels-last.

Then `dosewise stream` on a 100-frame stack with each backend: frames per second and p50/p99
latency per frame, reading and writing included.

Writes benchmarks/results/denoise-speed.md (printed).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from dosewise.infer.denoise import Denoiser, default_model_path
from dosewise.models import ModelConfig, build_model, count_parameters
from dosewise.checkpoint import load_model

RESULTS = Path(__file__).parent / "results" / "denoise-speed.md"
FRAME_PX = 512


def frame(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).poisson(5.0, size=(FRAME_PX, FRAME_PX)).astype(np.float32)


def interleaved_medians(candidates: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median ms of each callable, run round-robin so drifts in machine load hit all alike."""
    for fn in candidates.values():
        fn(), fn()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


def cpu_table(model_path: Path, repeats: int) -> list[str]:
    image = frame()
    reference = build_model(ModelConfig(name="resnet18-unet")).eval()
    x = torch.from_numpy((image - image.mean()) / image.std())[None, None]

    def run_reference() -> None:
        with torch.inference_mode():
            reference(x)

    shipped = load_model(model_path)
    torch_fp32 = Denoiser(shipped, device="cpu", tile_px=FRAME_PX, checkpoint=model_path)
    onnx = Denoiser(shipped, backend="onnx", tile_px=FRAME_PX, checkpoint=model_path)
    agreement = float(np.abs(onnx(image) - torch_fp32(image)).max() / np.ptp(torch_fp32(image)))
    medians = interleaved_medians({
        "resnet18-unet, torch fp32 (reference)": run_reference,
        f"{shipped.model_config.name} (shipped), torch fp32": lambda: torch_fp32(image),
        f"{shipped.model_config.name} (shipped), onnxruntime": lambda: onnx(image),
    }, repeats)
    ref_ms = medians["resnet18-unet, torch fp32 (reference)"]
    params = {"resnet18-unet": count_parameters(reference), shipped.model_config.name: count_parameters(shipped.network)}
    lines = [f"CPU: {torch.get_num_threads()} threads, 512x512 frame, median of {repeats} interleaved runs; "
             f"onnx vs torch max difference {agreement:.2e} of the output range.", "",
             "| model, backend | parameters | ms / frame | speed-up vs reference |", "|---|---:|---:|---:|"]
    for name, ms in medians.items():
        lines.append(f"| {name} | {params[name.split(' ')[0].rstrip(',')]:,} | {ms:.1f} | {ref_ms / ms:.2f}x |")
    return lines


def stream_table(model_path: Path, frames: int = 100) -> list[str]:
    """`dosewise stream` end to end on a TIFF stack: read, denoise, write each frame."""
    import tifffile

    lines = ["", f"`dosewise stream` on a {frames}-frame 512x512 uint16 TIFF stack (read + denoise + "
             "write a float32 TIFF per frame):", "",
             "| backend | frames/s | latency p50 ms | latency p99 ms |", "|---|---:|---:|---:|"]
    with tempfile.TemporaryDirectory(prefix="dosewise-stream-bench-") as folder:
        stack = Path(folder) / "movie.tif"
        tifffile.imwrite(stack, np.stack([frame(i) for i in range(frames)]).astype(np.uint16))
        for backend in ("torch", "onnx"):
            result = subprocess.run(
                [str(Path(sys.executable).with_name("dosewise")), "stream", str(stack), "-o",
                 str(Path(folder) / backend), "--model", str(model_path), "--backend", backend, "--json"],
                check=True, capture_output=True, text=True)
            summary = json.loads(result.stdout)
            lines.append(f"| {backend} | {summary['fps']:.1f} | {summary['latency_p50_ms']:.1f} | "
                         f"{summary['latency_p99_ms']:.1f} |")
    return lines


def gpu_table(model_path: Path, repeats: int) -> list[str]:
    shipped = load_model(model_path)
    lines = ["", "GPU (CUDA), ms per frame including host-device transfer:", "",
             "| precision | batch | ms / frame |", "|---|---:|---:|"]
    for precision in ("32", "bf16", "fp16"):
        denoiser = Denoiser(shipped, device="cuda", precision=precision, tile_px=FRAME_PX, batch_size=64)
        for batch in (1, 8, 32, 64):
            frames = np.stack([frame(i) for i in range(batch)])

            def run() -> None:
                denoiser(frames)
                torch.cuda.synchronize()

            ms = interleaved_medians({"x": run}, repeats)["x"] / batch
            lines.append(f"| {precision} | {batch} | {ms:.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--gpu", action="store_true")
    args = parser.parse_args()
    model = args.model or default_model_path()
    lines = [f"# Denoising speed ({datetime.date.today()}, {platform.node()}, {platform.processor() or platform.machine()})",
             "", "Command: `.venv/bin/python benchmarks/bench_denoise_speed.py`", ""]
    lines += cpu_table(model, args.repeats)
    lines += stream_table(model)
    if args.gpu:
        lines += gpu_table(model, args.repeats)
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
