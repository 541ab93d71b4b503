"""The Python face of ``dosewise configs``: the example recipes shipped inside the package.

A pip-installed dosewise has no checkout, so the recipes the documentation runs
(``configs/segment-au-ceo2.yaml``, ...) travel as package data and are copied out from here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from dosewise.errors import OutputFileError
from dosewise.io import atomic_write
from dosewise.workflows._output import prepare_out_dir


def shipped_configs() -> list[Path]:
    """Every recipe (YAML) shipped in ``dosewise/configs/``, by name."""
    folder = resources.files("dosewise").joinpath("configs")
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def copy_configs(out_dir: str | Path) -> list[Path]:
    """Copy the shipped recipes into ``out_dir`` (created when missing); refuses, before writing
    anything, when one of them is there already, so an edited recipe is never overwritten."""
    out_dir = Path(out_dir)
    sources = shipped_configs()
    targets = [out_dir / source.name for source in sources]
    existing = [target for target in targets if target.exists()]
    if existing:
        raise OutputFileError(f"exists already ({len(existing)} of the {len(targets)} recipes are there); "
                              "copy into another folder or move them away", existing[0])
    prepare_out_dir(out_dir)
    for source, target in zip(sources, targets):
        with atomic_write(target) as tmp:
            tmp.write_bytes(source.read_bytes())
    return targets
