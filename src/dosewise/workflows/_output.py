"""The output folder every workflow writes into (refused when it is a file, created when missing),
and what happens to outputs that are already there (one policy for every command)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from pathlib import Path

from dosewise.errors import InvalidParameterError, OutputFileError


def check_out_dir(out_dir: Path) -> None:
    """A one-line error when ``out_dir`` exists and is not a folder."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFileError("exists and is not a folder", out_dir)


def prepare_out_dir(out_dir: Path) -> Path:
    """``out_dir``, checked and created (with its parents) when missing."""
    check_out_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


class Existing(str, Enum):
    """What a command does with an output file that is already there (not an input): ``refuse``
    (the default: a one-line error before any work), ``overwrite`` or ``skip`` that input."""

    refuse = "refuse"
    overwrite = "overwrite"
    skip = "skip"


def existing_policy(overwrite: bool, skip_existing: bool) -> Existing:
    """The policy of the ``--overwrite`` / ``--skip-existing`` flags (at most one of them)."""
    if overwrite and skip_existing:
        raise InvalidParameterError("give --overwrite or --skip-existing, not both")
    return Existing.overwrite if overwrite else Existing.skip if skip_existing else Existing.refuse


def inputs_to_run(outputs: Mapping[Path, Sequence[Path]], existing: Existing | str) -> list[Path]:
    """The inputs whose outputs may be written, planned before any work: with ``refuse`` an
    output already there is a one-line error naming it; with ``skip`` its input is left out
    (its earlier result stays); with ``overwrite`` every input runs."""
    existing = Existing(existing)
    if existing is Existing.overwrite:
        return list(outputs)
    kept = []
    for source, targets in outputs.items():
        there = [target for target in targets if target.exists()]
        if not there:
            kept.append(source)
        elif existing is Existing.refuse:
            raise OutputFileError(f"exists already (from {source.name}); pass --overwrite to replace it or "
                                  "--skip-existing to keep it and skip that input", there[0])
    return kept


def refuse_existing(targets: Iterable[Path | None], overwrite: bool) -> None:
    """The one-run commands' policy (``noise``, ``subsample``, ``profile``, ``fit-mtf``,
    ``stream``): an output already there is a one-line error before any work, unless
    ``overwrite``."""
    if overwrite:
        return
    for target in targets:
        if target is not None and Path(target).exists():
            raise OutputFileError("exists already; pass --overwrite to replace it", target)
