"""``dosewise demo``: the whole pipeline on simulated data, as one HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dosewise.cli.common import console


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for report.html and its data.")] = Path("demo-output"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    quick: Annotated[bool, typer.Option(help="A smaller, faster run (about a minute) for a first look.")] = False,
) -> None:
    """Simulate Au/CeO2 HRTEM, fit the MTF, train and apply a segmentation net; write <out>/report.html."""
    from dosewise.experiments.demo import FULL, QUICK, run_demo

    report_path = run_demo(out, seed=seed, settings=QUICK if quick else FULL, console=console)
    console.print(f"[bold green]report:[/] {report_path}")
