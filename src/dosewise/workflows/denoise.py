"""The Python face of ``dosewise denoise``: a restoration model applied to files, one
``<name>_denoised.tif`` each.

It exists so that a notebook plans the outputs (no two files on one name, never over an
input) and writes them exactly as the command does; :class:`dosewise.infer.denoise.Denoiser`
is the per-image step it calls, and :func:`make_denoiser` is shared with ``dosewise stream``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dosewise.errors import InvalidParameterError, OutputFileError
from dosewise.infer.denoise import Denoiser, default_model_path
from dosewise.infer.runtime import Backend, Precision
from dosewise.io import OutputFormat, expand_inputs, processing_record, provenance, read_image, write_image
from dosewise.workflows._batch import FailedInput, run_batch
from dosewise.workflows._output import Existing, inputs_to_run, prepare_out_dir


def make_denoiser(
    model: str | Path | None = None,
    *,
    backend: Backend | str = Backend.torch,
    tile_px: int = 512,
    overlap_px: int | None = None,
    batch_size: int = 4,
    device: str = "auto",
    precision: Precision | str = Precision.fp32,
) -> tuple[Denoiser, Path]:
    """The :class:`~dosewise.infer.denoise.Denoiser` of checkpoint ``model`` (default: the
    packaged model) with these settings, and the checkpoint's path."""
    if tile_px < 16:
        raise InvalidParameterError(f"--tile must be >= 16 px, got {tile_px}")
    if batch_size < 1:
        raise InvalidParameterError(f"--batch-size must be >= 1, got {batch_size}")
    checkpoint = Path(model) if model is not None else default_model_path()
    denoiser = Denoiser.from_checkpoint(
        checkpoint,
        backend=backend,
        device=device,
        precision=precision,
        tile_px=tile_px,
        overlap_px=overlap_px,
        batch_size=batch_size,
    )
    return denoiser, checkpoint


@dataclass(frozen=True)
class DenoisedFile:
    """One input file and the file its denoised frames went to."""

    image: Path
    frames: int
    shape: tuple[int, int]
    output: Path
    min: float
    max: float

    def to_dict(self) -> dict[str, Any]:
        return {"image": str(self.image), "frames": self.frames, "shape": list(self.shape),
                "output": str(self.output), "min": self.min, "max": self.max}


@dataclass(frozen=True)
class DenoiseResult:
    """What :func:`denoise_files` ran (checkpoint, backend, device, precision) and wrote."""

    model: Path
    backend: str
    device: str
    precision: str
    out_dir: Path
    images: list[DenoisedFile] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    """Inputs left out because their output was there (``existing="skip"``)."""
    failed: list[FailedInput] = field(default_factory=list)
    """Inputs that could not be read or used, each with its one-line reason."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dosewise denoise --json``."""
        return {"model": str(self.model), "backend": self.backend, "device": self.device,
                "precision": self.precision, "out": str(self.out_dir),
                "images": [image.to_dict() for image in self.images], "skipped": [str(p) for p in self.skipped],
                "failed": [f.to_dict() for f in self.failed]}


def denoise_files(
    images: Sequence[str | Path],
    out_dir: str | Path,
    *,
    model: str | Path | None = None,
    backend: Backend | str = Backend.torch,
    tile_px: int = 512,
    overlap_px: int | None = None,
    batch_size: int = 4,
    device: str = "auto",
    precision: Precision | str = Precision.fp32,
    output_format: OutputFormat | str = OutputFormat.tif,
    signal: str | int | None = None,
    existing: Existing | str = Existing.refuse,
    progress: bool = False,
) -> DenoiseResult:
    """Denoise each file of ``images`` into ``out_dir/<name>_denoised.tif`` (float32; stacks
    stay stacks; ``output_format="hspy"``: ``.hspy``), carrying the source's calibration,
    metadata and a processing record. Every output is planned before anything runs: two
    inputs of one name, or an output that is an input, are refused. ``signal``: which signal of
    multi-signal files (index or title). ``existing``: an output already there is refused
    (default), overwritten, or its input skipped. An input that cannot be read or used is
    left out and listed in ``failed`` (the batch goes on; :mod:`dosewise.workflows._batch`)."""
    suffix = _output_suffix(output_format)
    images = expand_inputs(images)
    out_dir = Path(out_dir)
    outputs: dict[Path, Path] = {}
    for path in images:
        output = out_dir / f"{path.stem}_denoised{suffix}"
        if output in outputs:
            raise OutputFileError(f"{outputs[output]} and {path} would both be written here; rename one", output)
        for source in images:
            if source.exists() and output.exists() and source.resolve() == output.resolve():
                raise OutputFileError(f"refusing to overwrite input file {source}", output)
        outputs[output] = path
    run = set(inputs_to_run({path: [output] for output, path in outputs.items()}, existing))
    denoiser, checkpoint = make_denoiser(model, backend=backend, tile_px=tile_px, overlap_px=overlap_px,
                                         batch_size=batch_size, device=device, precision=precision)
    prepare_out_dir(out_dir)

    def denoise_one(planned: tuple[Path, Path]) -> DenoisedFile:
        output, path = planned
        image = read_image(path, signal=signal)
        denoised = denoiser(image.data)
        record = processing_record("denoise", checkpoint, backend=denoiser.backend, precision=denoiser.precision)
        write_image(output, denoised, inputs=images, pixel_size_A=image.pixel_size_A,
                    metadata=provenance(image.metadata, path, record))
        return DenoisedFile(image=path, frames=image.n_frames, shape=tuple(image.data.shape[-2:]),
                            output=output, min=float(denoised.min()), max=float(denoised.max()))

    written, failed = run_batch([(o, p) for o, p in outputs.items() if p in run], denoise_one,
                                path_of=lambda planned: planned[1], description="denoising", progress=progress)
    return DenoiseResult(model=checkpoint, backend=denoiser.backend, device=denoiser.device,
                         precision=denoiser.precision, out_dir=out_dir, images=written,
                         skipped=[path for path in outputs.values() if path not in run], failed=failed)


def _output_suffix(output_format: OutputFormat | str) -> str:
    try:
        return "." + OutputFormat(output_format).value
    except ValueError:
        raise InvalidParameterError(f"--format must be one of {', '.join(f.value for f in OutputFormat)}, "
                                    f"got {output_format!r}") from None
