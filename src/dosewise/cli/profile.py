"""``dosewise profile``: particle diameter, edge width and resolution from a line profile
(Katsuno et al. 2022); the work is in :mod:`dosewise.workflows.profile`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dosewise.analysis.profile_result import Polarity
from dosewise.cli.common import JsonFlag, OverwriteFlag, console, emit_json


def profile_command(
    image_path: Annotated[Path, typer.Argument(metavar="IMAGE", help="Micrograph (raw, e.g. low-dose).")],
    start: Annotated[
        tuple[float, float], typer.Option(metavar="X Y", help="Start point A in pixels (x = column).")
    ],
    end: Annotated[
        tuple[float, float], typer.Option(metavar="X Y", help="End point B in pixels (x = column).")
    ],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).")],
    denoised: Annotated[
        Path | None, typer.Option(help="The same field of view restored (same shape); its profile is fitted too.")
    ] = None,
    width: Annotated[int, typer.Option(help="Band width in px averaged across the line.")] = 1,
    pixel_size: Annotated[
        float | None, typer.Option("--pixel-size", help="Pixel size in Å/px (overrides the file's).")
    ] = None,
    particles: Annotated[
        int | None, typer.Option(help="Particles on the line, 1 or 2 (default: count the dips).")
    ] = None,
    polarity: Annotated[
        Polarity, typer.Option(help="dark: particles darker than background (bright-field TEM).")
    ] = Polarity.dark,
    background_fraction: Annotated[
        float, typer.Option(help="Fraction of the line at each end taken as background.")
    ] = 0.15,
    overwrite: OverwriteFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Fit blurred spheres to the profile A→B: background, diameters, edge width, (d1+d2)/2 < l.

    Writes profile.csv, profile.png and profile.json to the output folder.
    """
    from dosewise.workflows.profile import profile_file

    result = profile_file(image_path, start, end, out_dir, denoised=denoised, width_px=width,
                          pixel_size_A=pixel_size, particles=particles, polarity=polarity,
                          background_fraction=background_fraction, overwrite=overwrite)
    if as_json:
        emit_json(result.to_dict())
    else:
        _print_table(result.report)


def _print_table(report: dict[str, Any]) -> None:
    nm = report["pixel_size_A"] is not None
    unit = "nm" if nm else "px"
    table = Table(title=f"line profile of {Path(report['image']).name}, {report['width_px']} px wide")
    for column in ("profile", "particle", f"centre ({unit})", f"diameter ({unit})", f"edge width ({unit})",
                   "background"):
        table.add_column(column, justify="right")
    verdicts = []
    for label, result in report["profiles"].items():
        if "error" in result:
            table.add_row(label, "-", "-", "-", "-", result["error"])
            continue
        for index, particle in enumerate(result["particles"], start=1):
            se = particle[f"diameter_se_{unit}"]
            diameter = f"{particle[f'diameter_{unit}']:.4g}" + (f" ± {se:.2g}" if se is not None else "")
            table.add_row(
                label, str(index), f"{particle[f'centre_{unit}']:.4g}", diameter,
                f"{result[f'edge_width_{unit}']:.3g}", f"{result['background']:.4g}",
            )
        if result["resolved"] is not None:
            verdicts.append(f"{label}: l = {result[f'separation_{unit}']:.4g} {unit}, "
                            f"{'resolved' if result['resolved'] else 'not resolved'} ((d1 + d2)/2 < l)")
    console.print(table)
    for line in verdicts:
        console.print(line)
    console.print(f"wrote {report['csv']}, {report['png']}, {report['json']}")
