"""The Python face of ``dosewise segment``: a trained segmentation model applied to files,
with the mask, probability map, overlay and particle table of every frame written.

It exists so that a notebook plans and writes the outputs exactly as the command does;
:func:`dosewise.infer.segment` is the per-image step it calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dosewise.analysis.particles import write_particles_csv
from dosewise.checkpoint import load_model
from dosewise.errors import InvalidParameterError
from dosewise.infer.segmentation import default_segmenter_path, segment
from dosewise.infer.tiling import required_overlap_px
from dosewise.io import expand_inputs, processing_record, provenance, read_image, write_image
from dosewise.models import receptive_field_px
from dosewise.report.overlay import overlay_png
from dosewise.shipped import resolve_model
from dosewise.workflows._batch import FailedInput, run_batch
from dosewise.workflows._output import Existing, check_out_dir, inputs_to_run


@dataclass(frozen=True)
class SegmentedFrame:
    """One frame of one file: its particle count, area fraction and the files written."""

    image: Path
    frame: int
    particles: int
    area_fraction: float
    mask: Path
    probability: Path
    overlay: Path
    particles_csv: Path

    def to_dict(self) -> dict[str, Any]:
        """One entry of ``images`` in ``dosewise segment --json``."""
        return {"image": str(self.image), "frame": self.frame, "particles": self.particles,
                "area_fraction": self.area_fraction, "mask": str(self.mask)}


@dataclass(frozen=True)
class SegmentResult:
    """What :func:`segment_files` ran and wrote: every frame segmented, the inputs skipped
    because their outputs were there, and the inputs that failed (one-line reasons)."""

    model: Path
    out_dir: Path
    frames: list[SegmentedFrame] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[FailedInput] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dosewise segment --json``."""
        return {"model": str(self.model), "out": str(self.out_dir), "images": [f.to_dict() for f in self.frames],
                "skipped": [str(p) for p in self.skipped], "failed": [f.to_dict() for f in self.failed]}


def segment_files(
    images: Sequence[str | Path],
    out_dir: str | Path,
    model: str | Path | None = None,
    *,
    threshold: float | None = None,
    tile_px: int = 512,
    overlap_px: int | None = None,
    device: str = "auto",
    split_touching: bool = False,
    signal: str | int | None = None,
    existing: Existing | str = Existing.refuse,
    progress: bool = False,
) -> SegmentResult:
    """Segment every frame of ``images`` with the checkpoint ``model`` (``dosewise train
    segment``); write ``<stem>_mask.tif``, ``_probability.tif``, ``_overlay.png`` and
    ``_particles.csv`` per frame (stacks: ``<stem>_frameNNNN_*``) into ``out_dir``.

    ``model`` defaults to the shipped nanoparticle segmenter (bright-field TEM and ADF-STEM);
    a shipped model may be named (``hrtem``: Au particles in HRTEM, Larsen et al. 2023);
    ``threshold`` defaults to the model's; ``overlap_px`` to enough for the receptive
    field (at most half a tile). ``split_touching``: touching particles are counted one by one
    (watershed on the distance transform) and ``<stem>_labels.tif`` holds their instance labels.
    ``existing``: outputs already there are refused (default), overwritten, or their input skipped.
    An input that cannot be read or used is left out and listed in ``failed`` (the batch goes on).
    """
    images = expand_inputs(images)
    out_dir = Path(out_dir)
    model = resolve_model(model, "segment") if model is not None else default_segmenter_path()
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise InvalidParameterError(f"--threshold must lie in (0, 1), got {threshold}")
    if tile_px < 16:
        raise InvalidParameterError(f"--tile must be >= 16 px, got {tile_px}")
    loaded = load_model(model)
    if loaded.task != "segment":
        raise InvalidParameterError(f"checkpoint is a {loaded.task!r} model, not a segmentation model", model)
    if overlap_px is None:
        overlap_px = min(required_overlap_px(receptive_field_px(loaded.model_config)), tile_px // 2)
    check_out_dir(out_dir)
    run = set(inputs_to_run({path: _first_outputs(out_dir, path.stem) for path in images}, existing))
    out_dir.mkdir(parents=True, exist_ok=True)

    def segment_one(path: Path) -> list[SegmentedFrame]:
        frames = []
        image = read_image(path, signal=signal)
        for index in range(image.n_frames):
            frame = image.frame(index)
            stem = path.stem if image.n_frames == 1 else f"{path.stem}_frame{index:04d}"
            result = segment(frame, loaded, threshold=threshold, tile_px=tile_px, overlap_px=overlap_px,
                             device=device, split_touching=split_touching)
            carried = provenance(frame.metadata, path, processing_record(
                "segment", model, threshold=result.threshold, split_touching=split_touching))
            calibrated = {"inputs": images, "pixel_size_A": frame.pixel_size_A, "metadata": carried}
            if result.labels is not None:
                write_image(out_dir / f"{stem}_labels.tif", result.labels.astype(np.float32), **calibrated)
            mask = out_dir / f"{stem}_mask.tif"
            write_image(mask, result.mask.astype(np.float32), **calibrated)
            probability = write_image(out_dir / f"{stem}_probability.tif", result.probability, **calibrated)
            overlay = overlay_png(out_dir / f"{stem}_overlay.png", frame.data, result.mask, inputs=images)
            table = write_particles_csv(out_dir / f"{stem}_particles.csv", result.particles, inputs=images)
            frames.append(SegmentedFrame(image=path, frame=index, particles=len(result.particles),
                                         area_fraction=float(result.mask.mean()), mask=mask,
                                         probability=probability, overlay=overlay, particles_csv=table))
        return frames

    per_file, failed = run_batch([p for p in images if p in run], segment_one, path_of=lambda p: p,
                                 description="segmenting", progress=progress)
    return SegmentResult(model=model, out_dir=out_dir, frames=[f for frames in per_file for f in frames],
                         skipped=[p for p in images if p not in run], failed=failed)


SEGMENT_OUTPUTS = ("_mask.tif", "_probability.tif", "_overlay.png", "_particles.csv", "_labels.tif")


def _first_outputs(out_dir: Path, stem: str) -> list[Path]:
    """The files of a file's (first) frame, single image or stack: enough to tell that a file was
    segmented into ``out_dir`` before."""
    return [out_dir / f"{stem}{part}{suffix}" for part in ("", "_frame0000") for suffix in SEGMENT_OUTPUTS]
