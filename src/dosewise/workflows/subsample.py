"""The Python face of ``dosewise subsample``: a partial STEM scan (Ede 2020) of a full scan,
written to a file.

It exists so that a notebook sub-samples a file exactly as the command does and gets the
numbers it reports (step, coverage, probe positions).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.io import output_group, read_image, write_image
from dosewise.workflows._output import refuse_existing
from dosewise.physics import parse_coverage, partial_scan


@dataclass(frozen=True)
class SubsampleResult:
    """What :func:`subsample_file` wrote and the scan it kept."""

    input: Path
    output: Path
    mask: Path | None
    step: int
    coverage: float
    offset: tuple[int, int]
    probe_positions: int
    samples_shape: tuple[int, int]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dosewise subsample --json``."""
        return {
            "input": str(self.input),
            "output": str(self.output),
            "mask": str(self.mask) if self.mask else None,
            "step": self.step,
            "coverage": self.coverage,
            "offset": list(self.offset),
            "probe_positions": self.probe_positions,
            "samples_shape": list(self.samples_shape),
        }


def subsample_file(
    input_path: str | Path,
    output: str | Path,
    *,
    coverage: str | float,
    offset: tuple[int, int] = (0, 0),
    samples_only: bool = False,
    mask_out: str | Path | None = None,
    overwrite: bool = False,
) -> SubsampleResult:
    """Keep every s-th probe position of the 2-D image ``input_path`` (coverage 1/s², e.g.
    '1/25'), starting at ``offset`` (row, column), and write the scan filled by nearest
    neighbour (``samples_only``: the small image of kept positions) to ``output``;
    ``mask_out`` also writes the sampling mask. Both files appear together or not at all; an
    existing one is refused unless ``overwrite``."""
    input_path = Path(input_path)
    mask_out = Path(mask_out) if mask_out is not None else None
    if mask_out is not None and mask_out.resolve() == Path(output).resolve():
        raise InvalidParameterError(f"--mask-out and the output are one file ({mask_out})")
    refuse_existing([Path(output), mask_out], overwrite)
    image = read_image(input_path)
    if image.data.ndim != 2:
        raise InvalidImageError(f"expected one 2-D image, got shape {image.shape}", input_path)
    step = parse_coverage(coverage)
    if any(o < 0 or o >= step for o in offset):
        raise InvalidParameterError(f"offset {offset} must lie in 0..{step - 1} for coverage 1/{step * step}")
    scan = partial_scan(image.data, step, offset=offset)
    Path(output).parent.mkdir(parents=True, exist_ok=True)  # a new output folder, once all is checked
    with output_group():
        written = write_image(output, scan.samples if samples_only else scan.filled, inputs=[input_path])
        if mask_out is not None:
            write_image(mask_out, scan.mask.astype(np.float32), inputs=[input_path])
    return SubsampleResult(
        input=input_path,
        output=written,
        mask=Path(mask_out) if mask_out is not None else None,
        step=step,
        coverage=scan.coverage,
        offset=tuple(offset),
        probe_positions=int(scan.mask.sum()),
        samples_shape=tuple(scan.samples.shape),
    )
