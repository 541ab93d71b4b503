"""``dosewise export CKPT --onnx OUT.onnx``: a trained model as ONNX (the work is in
:mod:`dosewise.workflows.export`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dosewise.cli.common import JsonFlag, OverwriteFlag, console, emit_json


def export_command(
    checkpoint: Annotated[Path, typer.Argument(help="A dosewise checkpoint (segmentation, denoiser, pretraining).")],
    onnx: Annotated[Path, typer.Option("--onnx", help="Output .onnx file.")],
    tile: Annotated[int, typer.Option(help="Tile size the graph is traced at (what tiled inference feeds).")] = 256,
    overwrite: OverwriteFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Export a model to ONNX, checked against torch on a random tile before it is kept."""
    from dosewise.workflows.export import export_checkpoint

    result = export_checkpoint(checkpoint, onnx, tile_px=tile, overwrite=overwrite)
    if as_json:
        emit_json(result.to_dict())
        return
    console.print(f"wrote {result.onnx} ({result.task}, {result.model}, {result.tile_px} px tiles); "
                  f"onnxruntime vs torch: max |error| {result.max_abs_error:.2g} of an output range "
                  f"{result.output_range:.3g}")
