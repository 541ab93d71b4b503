"""The output folder every workflow writes into: refused when it is a file, created when missing."""

from __future__ import annotations

from pathlib import Path

from dosewise.errors import OutputFileError


def check_out_dir(out_dir: Path) -> None:
    """A one-line error when ``out_dir`` exists and is not a folder."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFileError("exists and is not a folder", out_dir)


def prepare_out_dir(out_dir: Path) -> Path:
    """``out_dir``, checked and created (with its parents) when missing."""
    check_out_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir
