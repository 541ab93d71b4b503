"""The Python face of ``dosewise stream``: denoise frames as they come, from a stack or a
watched folder, and report the speed.

It exists so that a notebook streams exactly as the command does (the same items, the
same denoiser settings, warm-up before timing) and gets the summary it prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dosewise.errors import InvalidParameterError
from dosewise.infer.runtime import Backend, Precision
from dosewise.infer.stream import FRAME_NAME, OUTPUT_SUFFIX, StreamReport, folder_items, run_stream, stack_items
from dosewise.workflows._output import prepare_out_dir, refuse_existing
from dosewise.workflows.denoise import make_denoiser


@dataclass(frozen=True)
class StreamResult:
    """What :func:`stream_denoise` ran on and its :class:`~dosewise.infer.stream.StreamReport`."""

    source: Path
    kind: str  # "folder" or "stack"
    model: Path
    backend: str
    device: str
    precision: str
    out_dir: Path
    report: StreamReport

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dosewise stream --json``."""
        return {
            "source": str(self.source),
            "kind": self.kind,
            "model": str(self.model),
            "backend": self.backend,
            "device": self.device,
            "precision": self.precision,
            "out": str(self.out_dir),
            **self.report.summary(),
        }


def stream_denoise(
    source: str | Path,
    out_dir: str | Path,
    *,
    model: str | Path | None = None,
    backend: Backend | str = Backend.torch,
    watch_s: float = 0.0,
    pattern: str = "*",
    poll_s: float = 0.5,
    tile_px: int = 512,
    overlap_px: int | None = None,
    batch_size: int = 4,
    device: str = "auto",
    precision: Precision | str = Precision.fp32,
    on_skip: Callable[[str], None] = lambda line: None,
    overwrite: bool = False,
) -> StreamResult:
    """Denoise a frame sequence, writing each frame when done.

    A multi-frame file gives ``out_dir/frame_000000.tif``, ...; a folder gives
    ``out_dir/<name>_denoised.tif`` per file matching ``pattern``, polling every ``poll_s``
    seconds until ``watch_s`` seconds pass with nothing new. Unreadable frames are passed
    to ``on_skip`` (one line each) and skipped. Outputs of an earlier stream already in
    ``out_dir`` are refused before anything runs, unless ``overwrite``.
    """
    source, out_dir = Path(source), Path(out_dir)
    if watch_s < 0:
        raise InvalidParameterError(f"--watch must be >= 0 seconds, got {watch_s}")
    if poll_s <= 0:
        raise InvalidParameterError(f"--poll must be > 0 seconds, got {poll_s}")
    earlier = "*" + OUTPUT_SUFFIX if source.is_dir() else FRAME_NAME.split("{")[0] + "*.tif"
    refuse_existing(sorted(out_dir.glob(earlier))[:1] if out_dir.is_dir() else [], overwrite)
    if source.is_dir():
        items = folder_items(source, out_dir, pattern=pattern, watch_s=watch_s, poll_s=poll_s)
        kind = "folder"
    else:
        items = stack_items(source, out_dir)
        kind = "stack"
    denoiser, checkpoint = make_denoiser(model, backend=backend, tile_px=tile_px, overlap_px=overlap_px,
                                         batch_size=batch_size, device=device, precision=precision)
    prepare_out_dir(out_dir)
    denoiser.warmup()
    report = run_stream(items, denoiser, on_skip=on_skip)
    return StreamResult(source=source, kind=kind, model=checkpoint, backend=denoiser.backend,
                        device=denoiser.device, precision=denoiser.precision, out_dir=out_dir, report=report)
