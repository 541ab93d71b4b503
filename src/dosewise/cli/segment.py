"""``dosewise segment``: a trained segmentation model applied to micrographs of any size
(the work is in :mod:`dosewise.workflows.segment`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dosewise.cli.common import JsonFlag, OverwriteFlag, SignalOption, SkipExistingFlag, console, emit_json, exit_if_failed


def segment_command(
    images: Annotated[list[Path], typer.Argument(help="Micrographs in any readable format (stacks: every frame).")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).")],
    model: Annotated[Path | None, typer.Option(
        help="Checkpoint written by `dosewise train segment`, or a shipped model: particles (default: "
             "nanoparticles in BF-TEM / ADF-STEM) or hrtem (Au particles in HRTEM).")] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Probability threshold (default: the model's, 0.5 unless set).")
    ] = None,
    tile: Annotated[int, typer.Option(help="Tile size in pixels for large images.")] = 512,
    overlap: Annotated[
        int | None, typer.Option(help="Tile overlap in pixels (default: enough for the receptive field).")
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda[:N].")] = "auto",
    split_touching: Annotated[bool, typer.Option(
        help="Count touching particles one by one (watershed on the distance transform; writes _labels.tif).")] = False,
    signal: SignalOption = None,
    overwrite: OverwriteFlag = False,
    skip_existing: SkipExistingFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Probability map, binary mask (TIFF), overlay (PNG) and particles.csv for each image."""
    from dosewise.workflows._output import existing_policy
    from dosewise.workflows.segment import segment_files

    result = segment_files(images, out_dir, model, threshold=threshold, tile_px=tile, overlap_px=overlap,
                           device=device, split_touching=split_touching, signal=signal,
                           existing=existing_policy(overwrite, skip_existing), progress=True)
    attempted = len({f.image for f in result.frames}) + len(result.failed)
    if as_json:
        emit_json(result.to_dict())
        exit_if_failed(result.failed, attempted)
        return
    table = Table(title=f"segmentation with {result.model.name}")
    for column in ("image", "frame", "particles", "area fraction"):
        table.add_column(column, justify="right")
    for f in result.frames:
        table.add_row(f.image.name, str(f.frame), str(f.particles), f"{f.area_fraction:.3f}")
    console.print(table)
    console.print(f"wrote masks, overlays and particle tables to {out_dir}"
                  + (f"; skipped {len(result.skipped)} whose outputs were there" if result.skipped else ""))
    exit_if_failed(result.failed, attempted)
