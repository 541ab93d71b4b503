"""``dosewise stream``: denoise frames as they come, from a stack or a watched folder (the
work is in :mod:`dosewise.workflows.stream`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dosewise.cli.common import JsonFlag, OverwriteFlag, console, emit_json
from dosewise.cli.denoise import (
    BackendOption,
    BatchOption,
    DeviceOption,
    ModelOption,
    OverlapOption,
    PrecisionOption,
    TileOption,
)
from dosewise.infer.runtime import Backend, Precision


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
    overwrite: OverwriteFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Denoise a frame sequence, writing each frame when done; report fps and p50/p99 latency.

    A multi-frame file gives OUT/frame_000000.tif, frame_000001.tif, ...; a folder gives
    OUT/<name>_denoised.tif per file. Unreadable frames are reported on stderr and skipped.
    """
    from dosewise.workflows.stream import stream_denoise

    def report_skip(line: str) -> None:
        print(f"dosewise: {line}", file=sys.stderr, flush=True)

    result = stream_denoise(source, out_dir, model=model, backend=backend, watch_s=watch, pattern=pattern,
                            poll_s=poll, tile_px=tile, overlap_px=overlap, batch_size=batch_size, device=device,
                            precision=precision, on_skip=report_skip, overwrite=overwrite)
    if as_json:
        emit_json(result.to_dict())
        _exit_if_skipped(result.report.skipped)
        return
    report = result.report
    table = Table(title=f"stream {source.name} ({result.backend}, {result.device})", show_header=False)
    table.add_row("frames written", str(report.frames))
    table.add_row("skipped", str(len(report.skipped)))
    table.add_row("frames per second", _fmt(report.fps, ".1f"))
    table.add_row("latency p50 (ms)", _fmt(report.latency_ms(50), ".1f"))
    table.add_row("latency p99 (ms)", _fmt(report.latency_ms(99), ".1f"))
    table.add_row("output", str(out_dir))
    console.print(table)
    _exit_if_skipped(report.skipped)


def _exit_if_skipped(skipped: list[str]) -> None:
    """The batch policy (``dosewise.workflows._batch``) for a stream: each skipped frame was reported
    as it happened; the end says how many and exits with code 2."""
    if skipped:
        print(f"dosewise: error: {len(skipped)} frame(s) or file(s) skipped; the others were written",
              file=sys.stderr)
        raise typer.Exit(code=2)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)
