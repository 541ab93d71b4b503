"""``dosewise info``, ``dosewise noise`` and ``dosewise subsample``: one image file in, a
summary or one image file out (the work is in :mod:`dosewise.workflows`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dosewise.cli.common import (
    JsonFlag,
    OutDirOption,
    OutputFileOption,
    OverwriteFlag,
    SignalOption,
    console,
    emit_json,
    output_path,
)
from dosewise.units import DoseUnit


def info(
    path: Annotated[Path, typer.Argument(help="Image file (TIFF, PNG, NPY, MRC, DM3/DM4, EMD, SER, HSPY/HDF5).")],
    signal: SignalOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Shape, dtype, pixel size, value range and format of an image file, and its signals."""
    from dosewise.workflows.info import image_info

    summary = image_info(path, signal).to_dict()
    if as_json:
        emit_json(summary)
        return
    table = Table(show_header=False, title=str(path))
    for key, value in summary.items():
        if key == "signals":
            value = "\n".join(f"{s['index']}: {s['title']!r} {s['kind']} {'x'.join(map(str, s['shape']))}"
                              for s in value)
        elif key == "pixel_size_A" and value is None:
            value = "not calibrated"
        elif isinstance(value, float):
            value = f"{value:.6g}"
        table.add_row(key, str(value))
    Console().print(table)


def noise(
    input_path: Annotated[Path, typer.Argument(metavar="IN", help="Clean image (its mean is taken as intensity 1).")],
    dose: Annotated[float, typer.Option(help="Frame dose, in the unit of --dose-unit.")],
    out_dir: OutDirOption = None,
    output: OutputFileOption = None,
    dose_unit: Annotated[DoseUnit, typer.Option(help="Unit of --dose.")] = DoseUnit.per_A2,
    pixel_size: Annotated[
        float | None, typer.Option("--pixel-size", help="Pixel size in Å/px (overrides the file's).")
    ] = None,
    mtf: Annotated[
        str | None, typer.Option(help="Detector MTF: a preset mtf1..mtf5 or preset .yaml file (drawn with --seed), or c0,c3,C.")
    ] = None,
    readout: Annotated[
        float | None, typer.Option(help="Readout noise N0 in e-/px (default: the preset's draw, else 0).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    overwrite: OverwriteFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Add detector noise (Larsen et al. 2023, eq. 3): MTF[Poisson(dose · I)] + Poisson(N0)."""
    from dosewise.workflows.noise import add_detector_noise

    result = add_detector_noise(input_path, output_path(out_dir, output, input_path, "noisy"), dose=dose, dose_unit=dose_unit, pixel_size_A=pixel_size,
                                mtf=mtf, readout_n0_e_per_px=readout, seed=seed, overwrite=overwrite)
    if as_json:
        emit_json(result.to_dict())
    else:
        console.print(f"wrote {result.output} (dose {result.dose_e_per_px:.4g} e-/px, N0 {result.n0_e_per_px:.4g} e-/px)")


def subsample(
    input_path: Annotated[Path, typer.Argument(metavar="IN", help="Full STEM image.")],
    coverage: Annotated[str, typer.Option(help="Probe coverage 1/s², e.g. 1/25.")],
    out_dir: OutDirOption = None,
    output: OutputFileOption = None,
    offset: Annotated[tuple[int, int], typer.Option(help="Grid offset (row, column) of the first probe.")] = (0, 0),
    samples_only: Annotated[
        bool, typer.Option("--samples-only", help="Write only the small image of kept probe positions.")
    ] = False,
    mask_out: Annotated[Path | None, typer.Option(help="Also write the sampling mask here.")] = None,
    overwrite: OverwriteFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Partial STEM scan (Ede 2020): keep every s-th probe position, fill the rest by nearest
    neighbour."""
    from dosewise.workflows.subsample import subsample_file

    result = subsample_file(input_path, output_path(out_dir, output, input_path, "partial"), coverage=coverage, offset=offset, samples_only=samples_only,
                            mask_out=mask_out, overwrite=overwrite)
    if as_json:
        emit_json(result.to_dict())
    else:
        rows, columns = result.samples_shape
        console.print(
            f"wrote {result.output}: {result.probe_positions} probe positions "
            f"({rows}x{columns}), coverage 1/{result.step * result.step}"
        )
