"""``dosewise configs list|copy``: the example recipes shipped with the package (the work is in
:mod:`dosewise.workflows.configs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dosewise.cli.common import JsonFlag, console, emit_json

configs_app = typer.Typer(help="The example recipes (YAML) shipped with dosewise.", no_args_is_help=True)


def configs_list(as_json: JsonFlag = False) -> None:
    """List the shipped recipes."""
    from dosewise.workflows.configs import shipped_configs

    paths = shipped_configs()
    if as_json:
        emit_json({"configs": [str(p) for p in paths]})
        return
    for path in paths:
        print(path.name)


def configs_copy(
    out_dir: Annotated[Path, typer.Argument(help="Folder to copy them into (created if missing).")] = Path("configs"),
    as_json: JsonFlag = False,
) -> None:
    """Copy the shipped recipes into a folder, to run or edit them (never overwrites one)."""
    from dosewise.workflows.configs import copy_configs

    written = copy_configs(out_dir)
    if as_json:
        emit_json({"out": str(out_dir), "configs": [str(p) for p in written]})
        return
    console.print(f"copied {len(written)} recipes to {out_dir}")
