"""``dosewise export CKPT --onnx OUT.onnx --bmz OUT.zip``: a trained model as ONNX and/or a
BioImage.IO package (the work is in :mod:`dosewise.workflows.export` and
:mod:`dosewise.workflows.bmz`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dosewise.cli.common import JsonFlag, OverwriteFlag, console, emit_json


def export_command(
    checkpoint: Annotated[Path, typer.Argument(help="A dosewise checkpoint (segmentation, denoiser, pretraining).")],
    onnx: Annotated[Path | None, typer.Option("--onnx", help="Output .onnx file.")] = None,
    bmz: Annotated[Path | None, typer.Option(
        "--bmz", help="Output BioImage.IO model package (.zip; needs the \\[bmz] extra).")] = None,
    tile: Annotated[int, typer.Option(help="Tile size the network is traced at, for both outputs "
                                      "(what tiled inference feeds; the frame size of the package).")] = 256,
    overwrite: OverwriteFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Export a model as ONNX and/or a BioImage.IO package, each checked before it is kept."""
    from dosewise.errors import InvalidParameterError
    from dosewise.io import output_group
    from dosewise.workflows._output import refuse_existing
    from dosewise.workflows.export import export_checkpoint

    if onnx is None and bmz is None:
        raise InvalidParameterError("give --onnx OUT.onnx, --bmz OUT.zip or both")
    refuse_existing([onnx, bmz], overwrite)  # both, before either is written
    if bmz is not None:
        from dosewise.workflows.bmz import export_bmz  # the [bmz] extra: missing, one line before any work
    onnx_result = bmz_result = None
    with output_group():  # both files appear together, or neither
        if onnx is not None:
            onnx_result = export_checkpoint(checkpoint, onnx, tile_px=tile, overwrite=overwrite)
        if bmz is not None:
            bmz_result = export_bmz(checkpoint, bmz, tile_px=tile, overwrite=overwrite)
    if as_json:
        emit_json({key: value for result in (onnx_result, bmz_result) if result is not None
                   for key, value in result.to_dict().items()})
        return
    if onnx_result is not None:
        console.print(f"wrote {onnx_result.onnx} ({onnx_result.task}, {onnx_result.model}, {tile} px tiles); "
                      f"onnxruntime vs torch: max |error| {onnx_result.max_abs_error:.2g} of an output range "
                      f"{onnx_result.output_range:.3g}")
    if bmz_result is not None:
        console.print(f"wrote {bmz_result.bmz} (BioImage.IO {bmz_result.format_version}, "
                      f"{' + '.join(bmz_result.weights)}, {tile} px frames, {bmz_result.size_bytes / 1e6:.1f} MB); "
                      f"bioimageio.core test_model passed; output: {bmz_result.output_units}")
