"""``dosewise stream``: denoise frames as they come, from a stack or a watched folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dosewise.cli.common import JsonFlag, console, emit_json, user_errors_exit_2
from dosewise.cli.denoise import (
    Backend,
    BackendOption,
    BatchOption,
    DeviceOption,
    ModelOption,
    OverlapOption,
    Precision,
    PrecisionOption,
    TileOption,
    make_denoiser,
    prepare_out_dir,
)
from dosewise.errors import InvalidParameterError


@user_errors_exit_2
def stream_command(
    source: Annotated[Path, typer.Argument(help="A multi-frame file (TIFF stack, DM4/EMD series) or a folder.")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).")],
    model: ModelOption = None,
    backend: BackendOption = Backend.torch,
    watch: Annotated[
        float, typer.Option(help="Folder: keep polling until this many seconds pass with nothing new (0: no wait).")
    ] = 0.0,
    pattern: Annotated[str, typer.Option(help="Folder: file names to take (glob).")] = "*",
    poll: Annotated[float, typer.Option(help="Folder: seconds between polls; a file is taken once stable that long.")] = 0.5,
    tile: TileOption = 512,
    overlap: OverlapOption = None,
    batch_size: BatchOption = 4,
    device: DeviceOption = "auto",
    precision: PrecisionOption = Precision.fp32,
    as_json: JsonFlag = False,
) -> None:
    """Denoise a frame sequence, writing each frame when done; report fps and p50/p99 latency.

    A multi-frame file gives OUT/frame_000000.tif, frame_000001.tif, ...; a folder gives
    OUT/<name>_denoised.tif per file. Unreadable frames are reported on stderr and skipped.
    """
    from dosewise.infer.stream import folder_items, run_stream, stack_items

    if watch < 0:
        raise InvalidParameterError(f"--watch must be >= 0 seconds, got {watch}")
    if poll <= 0:
        raise InvalidParameterError(f"--poll must be > 0 seconds, got {poll}")
    if source.is_dir():
        items = folder_items(source, out_dir, pattern=pattern, watch_s=watch, poll_s=poll)
        kind = "folder"
    else:
        items = stack_items(source, out_dir)
        kind = "stack"
    denoiser, checkpoint = make_denoiser(model, backend, tile, overlap, batch_size, device, precision)
    prepare_out_dir(out_dir)
    denoiser.warmup()

    def report_skip(line: str) -> None:
        print(f"dosewise: {line}", file=sys.stderr, flush=True)

    report = run_stream(items, denoiser, on_skip=report_skip)
    summary = {
        "source": str(source),
        "kind": kind,
        "model": str(checkpoint),
        "backend": denoiser.backend,
        "device": denoiser.device,
        "precision": denoiser.precision,
        "out": str(out_dir),
        **report.summary(),
    }
    if as_json:
        emit_json(summary)
        return
    table = Table(title=f"stream {source.name} ({denoiser.backend}, {denoiser.device})", show_header=False)
    table.add_row("frames written", str(report.frames))
    table.add_row("skipped", str(len(report.skipped)))
    table.add_row("frames per second", _fmt(report.fps, ".1f"))
    table.add_row("latency p50 (ms)", _fmt(report.latency_ms(50), ".1f"))
    table.add_row("latency p99 (ms)", _fmt(report.latency_ms(99), ".1f"))
    table.add_row("output", str(out_dir))
    console.print(table)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)
