"""``dosewise denoise``: a restoration model applied to micrographs of any size (the work is
in :mod:`dosewise.workflows.denoise`); the options it shares with ``dosewise stream``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dosewise.cli.common import JsonFlag, OverwriteFlag, SignalOption, SkipExistingFlag, console, emit_json, exit_if_failed
from dosewise.infer.runtime import Backend, Precision

ModelOption = Annotated[
    Path | None,
    typer.Option(help="Restoration checkpoint (`dosewise train`); default: the packaged model."),
]
BackendOption = Annotated[
    Backend, typer.Option(help="torch (GPU when present) or onnx (onnxruntime on the CPU).")
]
TileOption = Annotated[int, typer.Option(help="Tile size in pixels.")]
OverlapOption = Annotated[
    int | None, typer.Option(help="Tile overlap in pixels (default: the receptive field, at most tile/2).")
]
BatchOption = Annotated[int, typer.Option("--batch-size", help="Tiles per forward pass.")]
DeviceOption = Annotated[str, typer.Option(help="auto, cpu or cuda[:N] (torch backend).")]
PrecisionOption = Annotated[
    Precision, typer.Option(help="32, bf16 or fp16 autocast (torch backend; fp16 needs CUDA).")
]


def denoise_command(
    images: Annotated[list[Path], typer.Argument(help="Micrographs in any readable format (stacks: every frame).")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).")],
    model: ModelOption = None,
    backend: BackendOption = Backend.torch,
    tile: TileOption = 512,
    overlap: OverlapOption = None,
    batch_size: BatchOption = 4,
    device: DeviceOption = "auto",
    precision: PrecisionOption = Precision.fp32,
    output_format: Annotated[str, typer.Option(
        "--format", help="tif (ImageJ TIFF, metadata as JSON in Info) or hspy (HyperSpy: axes and metadata).")] = "tif",
    signal: SignalOption = None,
    overwrite: OverwriteFlag = False,
    skip_existing: SkipExistingFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Denoise each image into <OUT>/<name>_denoised.tif (float32; stacks stay stacks), keeping
    the source's calibration and metadata and recording the processing."""
    from dosewise.workflows._output import existing_policy
    from dosewise.workflows.denoise import denoise_files

    result = denoise_files(images, out_dir, model=model, backend=backend, tile_px=tile, overlap_px=overlap,
                           batch_size=batch_size, device=device, precision=precision, output_format=output_format,
                           signal=signal, existing=existing_policy(overwrite, skip_existing), progress=True)
    attempted = len(result.images) + len(result.failed)
    if as_json:
        emit_json(result.to_dict())
        exit_if_failed(result.failed, attempted)
        return
    table = Table(title=f"denoised with {result.model.name} ({result.backend}, {result.device})")
    for column in ("image", "frames", "size", "output"):
        table.add_column(column, justify="left" if column in ("image", "output") else "right")
    for row in result.images:
        table.add_row(row.image.name, str(row.frames), "x".join(map(str, row.shape)), row.output.name)
    console.print(table)
    console.print(f"wrote {len(result.images)} file(s) to {out_dir}"
                  + (f"; skipped {len(result.skipped)} whose output was there" if result.skipped else ""))
    exit_if_failed(result.failed, attempted)
