"""``dosewise segment``: a trained segmentation model applied to micrographs of any size."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from dosewise.cli.common import JsonFlag, console, emit_json, user_errors_exit_2
from dosewise.errors import InvalidParameterError, OutputFileError


@user_errors_exit_2
def segment_command(
    images: Annotated[list[Path], typer.Argument(help="Micrographs in any readable format (stacks: every frame).")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).")],
    model: Annotated[Path, typer.Option(help="Checkpoint written by `dosewise train segment`.")],
    threshold: Annotated[
        float | None, typer.Option(help="Probability threshold (default: the model's, 0.5 unless set).")
    ] = None,
    tile: Annotated[int, typer.Option(help="Tile size in pixels for large images.")] = 512,
    overlap: Annotated[
        int | None, typer.Option(help="Tile overlap in pixels (default: enough for the receptive field).")
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda[:N].")] = "auto",
    as_json: JsonFlag = False,
) -> None:
    """Probability map, binary mask (TIFF), overlay (PNG) and particles.csv for each image."""
    from dosewise.analysis.particles import write_particles_csv
    from dosewise.infer import required_overlap_px, segment
    from dosewise.report.overlay import overlay_png
    from dosewise.io import read_image, write_image
    from dosewise.models import receptive_field_px
    from dosewise.checkpoint import load_model

    if threshold is not None and not 0.0 < threshold < 1.0:
        raise InvalidParameterError(f"--threshold must lie in (0, 1), got {threshold}")
    if tile < 16:
        raise InvalidParameterError(f"--tile must be >= 16 px, got {tile}")
    loaded = load_model(model)
    if loaded.task != "segment":
        raise InvalidParameterError(f"checkpoint is a {loaded.task!r} model, not a segmentation model", model)
    if overlap is None:
        overlap = min(required_overlap_px(receptive_field_px(loaded.model_config)), tile // 2)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFileError("exists and is not a folder", out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summaries = []
    for path in images:
        image = read_image(path)
        for index in range(image.n_frames):
            frame = image.frame(index)
            stem = path.stem if image.n_frames == 1 else f"{path.stem}_frame{index:04d}"
            result = segment(frame, loaded, threshold=threshold, tile_px=tile, overlap_px=overlap, device=device)
            write_image(out_dir / f"{stem}_mask.tif", result.mask.astype(np.float32), inputs=images,
                        pixel_size_A=frame.pixel_size_A)
            write_image(out_dir / f"{stem}_probability.tif", result.probability, inputs=images,
                        pixel_size_A=frame.pixel_size_A)
            overlay_png(out_dir / f"{stem}_overlay.png", frame.data, result.mask)
            write_particles_csv(out_dir / f"{stem}_particles.csv", result.particles)
            summaries.append(
                {
                    "image": str(path),
                    "frame": index,
                    "particles": len(result.particles),
                    "area_fraction": float(result.mask.mean()),
                    "mask": str(out_dir / f"{stem}_mask.tif"),
                }
            )
    if as_json:
        emit_json({"model": str(model), "out": str(out_dir), "images": summaries})
        return
    table = Table(title=f"segmentation with {model.name}")
    for column in ("image", "frame", "particles", "area fraction"):
        table.add_column(column, justify="right")
    for row in summaries:
        table.add_row(Path(row["image"]).name, str(row["frame"]), str(row["particles"]), f"{row['area_fraction']:.3f}")
    console.print(table)
    console.print(f"wrote masks, overlays and particle tables to {out_dir}")
