"""``dosewise models``: the network registry."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from dosewise.cli.common import JsonFlag, emit_json


def models(as_json: JsonFlag = False) -> None:
    """The network registry: name, parameter count and theoretical receptive field."""
    from dosewise.workflows.models import list_model_info

    rows = list_model_info()
    if as_json:
        emit_json({"models": rows})
        return
    table = Table(title="dosewise models (defaults; `--json` adds descriptions)")
    for column in ("name", "parameters", "receptive field (px)"):
        table.add_column(column, justify="left" if column == "name" else "right")
    for row in rows:
        table.add_row(row["name"], f"{row['parameters']:,}", str(row["receptive_field_px"]))
    Console().print(table)
