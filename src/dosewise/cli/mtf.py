"""``dosewise fit-mtf``: the detector MTF fitted to a vacuum region (the work is in
:mod:`dosewise.workflows.mtf`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dosewise.cli.common import JsonFlag, OverwriteFlag, console, emit_json
from dosewise.physics.mtf_fit import NoiseFloor
from dosewise.units import DoseUnit


def fit_mtf(
    input_path: Annotated[Path, typer.Argument(metavar="IN", help="Image (or stack) with a vacuum region.")],
    region: Annotated[
        tuple[int, int, int, int],
        typer.Option(help="Vacuum region x0 y0 x1 y1 in pixels (x = column, end exclusive)."),
    ],
    plot: Annotated[
        Path | None,
        typer.Option(help="PNG of spectrum + fit (default: <IN stem>_mtf_fit.png in --out, else here)."),
    ] = None,
    frame: Annotated[int, typer.Option(help="Frame of a stack to plot (all frames are fitted).")] = 0,
    floor: Annotated[
        NoiseFloor,
        typer.Option(
            help="Spectrum form: 'mtf' fits Larsen et al. 2023, eq. A.1 (tail C belongs to the "
            "MTF); 'readout' fits the eq. 3 vacuum spectrum sqrt(N_D·MTF²+N0), unbiased C for an "
            "N0 fit over a dose series."
        ),
    ] = NoiseFloor.mtf,
    doses: Annotated[
        str | None,
        typer.Option(help="Dose of every frame, 'd1,d2,...' or a text/CSV file with one per line; "
                     "fits N0 from C² = N0/(N0+N_D) (Larsen et al. 2023, Fig. 6)."),
    ] = None,
    dose_unit: Annotated[DoseUnit, typer.Option(help="Unit of --doses.")] = DoseUnit.per_A2,
    pixel_size: Annotated[
        float | None, typer.Option("--pixel-size", help="Pixel size in Å/px (overrides the file's).")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("-o", "--out", help="Folder (created if missing) for mtf_series.csv and, with doses, "
                     "mtf_vs_dose.png and readout_n0.png."),
    ] = None,
    preset_out: Annotated[
        Path | None,
        typer.Option(help="Write the fitted ranges as an MTF preset (.yaml) for --mtf of the simulator."),
    ] = None,
    min_r2: Annotated[
        float, typer.Option(help="Frames whose fit reaches this R² shape the preset and get a white dot.")
    ] = 0.98,
    overwrite: OverwriteFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Fit the detector MTF (Larsen et al. 2023, eq. A.1 -> eq. 1) to a vacuum region's noise
    spectrum.

    With the frame doses: c0, c3, C against dose (Fig. 5), readout N0 (eq. 2, Fig. 6) and a preset.
    """
    from dosewise.workflows.mtf import fit_mtf_file

    result = fit_mtf_file(input_path, region, plot=plot, frame=frame, floor=floor, doses=doses,
                          dose_unit=dose_unit, pixel_size_A=pixel_size, out_dir=out_dir, preset_out=preset_out,
                          min_r2=min_r2, overwrite=overwrite)
    if as_json:
        emit_json(result.to_dict())
        return
    x0, y0, x1, y1 = region
    table = Table(title=f"MTF fit (eq. 1) of {input_path.name}, region {x0} {y0} {x1} {y1}")
    with_dose = result.with_doses
    columns = ("frame", "e⁻/Å²", "e⁻/px", "c0", "c3", "C", "R²") if with_dose else ("frame", "c0", "c3", "C", "R²")
    for column in columns:
        table.add_column(column, justify="right")
    for row in result.rows:
        cells = [str(row["frame"])]
        if with_dose:
            a2 = row["dose_e_per_A2"]
            cells += ["" if a2 is None else f"{a2:.4g}", f"{row['dose_e_per_px']:.4g}"]
        cells += [f"{row['c0']:.4f}", f"{row['c3']:.3f}", f"{row['C']:.4f}", f"{row['r2']:.4f}"]
        table.add_row(*cells)
    Console().print(table)
    readout = result.series.readout
    if readout is not None:
        console.print(f"readout noise N0 = {readout.n0_e_per_px:.4g} e-/px "
                      f"(eq. 2 on the floor=readout tails, R² {readout.r2:.3f})")
    console.print(f"wrote {', '.join(result.written())}")
