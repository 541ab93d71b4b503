"""``dosewise serve`` speed: one request at a time, under load, and live frames against
``dosewise stream`` writing files, in one run on one machine.

    .venv/bin/python benchmarks/bench_serve.py [--frames 120] [--requests 1000] [--clients 32]

- single: sequential ``POST /v1/denoise`` of one 512² float32 TIFF (upload, read, denoise with the
  shipped model, TIFF back), median and p99 over ``--single`` requests after a warm-up;
- load: ``--requests`` requests from ``--clients`` concurrent clients (httpx, loopback): errors,
  p50/p99 latency, requests/s, and the process's RSS (server and clients share it) after a
  warm-up load of 4 x clients requests and after the load (a leak grows between the two; the
  first load grows the thread pool's memory arenas once);
- live: a ``--frames`` stack of 512² frames restored through a live session (what the page
  shows: frames written as ``stream`` does, plus a PNG pair per event) against ``dosewise
  stream`` on the same stack into files (reference), frames per second of each.

Writes ``benchmarks/results/serve.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import socket
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import numpy as np
import tifffile
import uvicorn

from dosewise.serve.app import ServeSettings, create_app
from dosewise.workflows.stream import stream_denoise

RESULTS = Path(__file__).parent / "results" / "serve.md"


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tiff_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array)
    return buffer.getvalue()


async def load(url: str, body: bytes, requests: int, clients: int) -> tuple[list[int], list[float], float]:
    limit = asyncio.Semaphore(clients)
    async with httpx.AsyncClient(base_url=url, timeout=300) as client:
        async def one() -> tuple[int, float]:
            async with limit:
                began = time.perf_counter()
                response = await client.post("/v1/denoise", files={"file": ("frame.tif", body)})
                return response.status_code, (time.perf_counter() - began) * 1e3
        began = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(requests)))
        wall = time.perf_counter() - began
    return [r[0] for r in results], [r[1] for r in results], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--single", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--frames", type=int, default=120)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    frame = rng.poisson(10.0, (512, 512)).astype(np.float32)
    body = tiff_bytes(frame)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "data"
        root.mkdir()
        tifffile.imwrite(root / "stack.tif", rng.poisson(10.0, (args.frames, 512, 512)).astype(np.float32))
        app = create_app(ServeSettings(roots=[root], out_dir=Path(folder) / "out", device="cpu",
                                       event_interval_s=0.02, live_watch_s=0.0))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            with httpx.Client(base_url=url, timeout=300) as client:
                for _ in range(5):  # warm-up: the model loads on the first request
                    client.post("/v1/denoise", files={"file": ("frame.tif", body)})
                single = []
                for _ in range(args.single):
                    began = time.perf_counter()
                    assert client.post("/v1/denoise", files={"file": ("frame.tif", body)}).status_code == 200
                    single.append((time.perf_counter() - began) * 1e3)
                cold = rss_mb()
                asyncio.run(load(url, body, 4 * args.clients, args.clients))  # thread pool, arenas, buffers
                before = rss_mb()
                statuses, latencies, wall = asyncio.run(load(url, body, args.requests, args.clients))
                after = rss_mb()

                began = time.perf_counter()
                assert client.post("/v1/live/start", json={"source": "stack.tif"}).status_code == 200
                events = 0
                with client.stream("GET", "/v1/live/events") as stream:
                    for line in stream.iter_lines():
                        if line.startswith("event: frame"):
                            events += 1
                        elif line.startswith("data: ") and '"frames"' in line and '"frame"' not in line:
                            end = json.loads(line.removeprefix("data: "))
                            break
                live_wall = time.perf_counter() - began
        finally:
            server.should_exit = True
            thread.join(timeout=30)
        began = time.perf_counter()
        files = stream_denoise(root / "stack.tif", Path(folder) / "files", device="cpu")
        files_wall = time.perf_counter() - began

    live_fps = end["frames"] / live_wall
    files_fps = files.report.frames / files_wall
    lines = [
        f"# dosewise serve ({date.today()}, {platform.node()}, {os.cpu_count()} CPU cores)", "",
        "Command: `.venv/bin/python benchmarks/bench_serve.py " + " ".join(
            f"--{k} {v}" for k, v in vars(args).items()) + "`; shipped denoiser (torch, fp32, CPU), 512² float32 "
        "frames, loopback.", "",
        "| measure | value |", "|---|---:|",
        f"| single request, median (ms) | {np.median(single):.1f} |",
        f"| single request, p99 (ms) | {np.percentile(single, 99):.1f} |",
        f"| load: requests / clients | {args.requests} / {args.clients} |",
        f"| load: errors | {sum(s != 200 for s in statuses)} |",
        f"| load: p50 / p99 latency (ms) | {np.median(latencies):.0f} / {np.percentile(latencies, 99):.0f} |",
        f"| load: requests per second | {args.requests / wall:.1f} |",
        f"| load: RSS of server + clients, before any load (MiB) | {cold:.0f} |",
        f"| load: RSS after a warm-up load / after the load (MiB) | {before:.0f} / {after:.0f} "
        f"({100 * (after / before - 1):+.1f} %) |",
        f"| live session ({args.frames} frames, files + page events), frames / s | {live_fps:.1f} |",
        f"| live session: events pushed to the page | {events} |",
        f"| `dosewise stream` to files only (reference), frames / s | {files_fps:.1f} |",
        f"| live / files | {live_fps / files_fps:.2f} |",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
