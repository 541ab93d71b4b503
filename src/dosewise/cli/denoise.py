"""``dosewise denoise``: a restoration model applied to micrographs of any size."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dosewise.cli.common import JsonFlag, console, emit_json, user_errors_exit_2
from dosewise.errors import InvalidParameterError, OutputFileError


class Backend(str, Enum):
    torch = "torch"
    onnx = "onnx"


class Precision(str, Enum):
    fp32 = "32"
    bf16 = "bf16"
    fp16 = "fp16"


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


def make_denoiser(
    model: Path | None,
    backend: Backend,
    tile: int,
    overlap: int | None,
    batch_size: int,
    device: str,
    precision: Precision,
) -> tuple[Any, Path]:
    """The :class:`~dosewise.infer.denoise.Denoiser` the options ask for, and its checkpoint."""
    from dosewise.infer.denoise import Denoiser, default_model_path

    if tile < 16:
        raise InvalidParameterError(f"--tile must be >= 16 px, got {tile}")
    if batch_size < 1:
        raise InvalidParameterError(f"--batch-size must be >= 1, got {batch_size}")
    checkpoint = model if model is not None else default_model_path()
    denoiser = Denoiser.from_checkpoint(
        checkpoint,
        backend=backend.value,
        device=device,
        precision=precision.value,
        tile_px=tile,
        overlap_px=overlap,
        batch_size=batch_size,
    )
    return denoiser, checkpoint


def prepare_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFileError("exists and is not a folder", out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


@user_errors_exit_2
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
    as_json: JsonFlag = False,
) -> None:
    """Denoise each image into <OUT>/<name>_denoised.tif (float32; stacks stay stacks)."""
    from dosewise.io import SUPPORTED_SUFFIXES, read_image, write_image

    outputs: dict[Path, Path] = {}
    for path in images:
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise InvalidParameterError(
                f"unknown file type {path.suffix or '(no suffix)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}",
                path,
            )
        output = out_dir / f"{path.stem}_denoised.tif"
        if output in outputs:
            raise OutputFileError(f"{outputs[output]} and {path} would both be written here; rename one", output)
        for source in images:
            if source.exists() and output.exists() and source.resolve() == output.resolve():
                raise OutputFileError(f"refusing to overwrite input file {source}", output)
        outputs[output] = path
    denoiser, checkpoint = make_denoiser(model, backend, tile, overlap, batch_size, device, precision)
    prepare_out_dir(out_dir)
    rows = []
    for output, path in outputs.items():
        image = read_image(path)
        denoised = denoiser(image.data)
        write_image(output, denoised, inputs=images, pixel_size_A=image.pixel_size_A)
        rows.append(
            {
                "image": str(path),
                "frames": image.n_frames,
                "shape": list(image.data.shape[-2:]),
                "output": str(output),
                "min": float(denoised.min()),
                "max": float(denoised.max()),
            }
        )
    report = {"model": str(checkpoint), "backend": denoiser.backend, "device": denoiser.device,
              "precision": denoiser.precision, "out": str(out_dir), "images": rows}
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"denoised with {checkpoint.name} ({denoiser.backend}, {denoiser.device})")
    for column in ("image", "frames", "size", "output"):
        table.add_column(column, justify="left" if column in ("image", "output") else "right")
    for row in rows:
        table.add_row(Path(row["image"]).name, str(row["frames"]), "x".join(map(str, row["shape"])),
                      Path(row["output"]).name)
    console.print(table)
    console.print(f"wrote {len(rows)} file(s) to {out_dir}")
