"""What every command shares: one-line user errors with exit code 2, ``--json`` output, and
recipes from YAML with the given flags on top."""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import numpy as np
import typer
from rich.console import Console
from typer.core import TyperGroup

from dosewise.errors import DosewiseError, InvalidParameterError, missing_extra

if TYPE_CHECKING:
    from dosewise.config.base import Recipe

console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=Enum)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout instead of a table.")]
OverwriteFlag = Annotated[bool, typer.Option(
    "--overwrite", help="Replace outputs that are already there (default: refuse, before any work).")]
SkipExistingFlag = Annotated[bool, typer.Option(
    "--skip-existing", help="Leave inputs whose outputs are already there (resume a batch).")]
OutDirOption = Annotated[Path | None, typer.Option(
    "-o", "--out", help="Output folder (created if missing); the file is named after the input.")]
OutputFileOption = Annotated[Path | None, typer.Option("--output", help="Output file (.tif, .npy, .png, .hspy).")]


def output_path(out_dir: Path | None, output: Path | None, input_path: Path, tag: str) -> Path:
    """The one file a command writes: ``--output FILE``, or ``<out_dir>/<input stem>_<tag>.tif``.
    ``-o`` always names a folder, as in every other command; ``-o x.tif`` is refused in one line
    rather than becoming a folder called ``x.tif``."""
    from dosewise.io import WRITABLE_SUFFIXES
    from dosewise.workflows._output import check_out_dir

    if (out_dir is None) == (output is None):
        raise InvalidParameterError("give -o FOLDER (the file is named after the input) or --output FILE")
    if out_dir is None:
        return output  # type: ignore[return-value]
    if out_dir.suffix.lower() in WRITABLE_SUFFIXES and not out_dir.is_dir():
        raise InvalidParameterError(f"-o names a folder, not a file ({out_dir}); write one file with --output {out_dir}")
    check_out_dir(out_dir)
    return out_dir / f"{input_path.stem}_{tag}.tif"  # the workflow creates the folder once all is checked


SignalOption = Annotated[str | None, typer.Option(
    "--signal", help="Which signal of a multi-signal file (EMD, DM, SER, HSPY): its index or title "
    "(`dosewise info FILE` lists them; default: the first image).")]


class OneLineUsageErrors(TyperGroup):
    """The ``dosewise`` command group: a usage error (``--dose abc``, an unknown option, a missing
    argument) is one line on stderr with exit code 2, like every other user mistake, instead of
    click's boxed usage block."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102 - click's entry point
        kwargs.pop("standalone_mode", None)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.Exit as exit_:
            sys.exit(exit_.exit_code)
        except typer.Abort:
            print("Aborted!", file=sys.stderr)
            sys.exit(1)
        except typer.TyperException as error:  # click's usage errors (exit code 2) and the rest
            context = getattr(error, "ctx", None)
            if getattr(error, "exit_code", 1) != 2 or context is None:
                error.show()
                sys.exit(getattr(error, "exit_code", 1))
            message = " ".join(error.format_message().split())
            print(f"dosewise: error: {context.command_path}: {message} (see {context.command_path} --help)",
                  file=sys.stderr)
            sys.exit(2)
        sys.exit(code if isinstance(code, int) else 0)


def user_errors_exit_2(fn: F) -> F:
    """Report a user mistake as one line on stderr with exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            refuse_non_finite(kwargs)
            return fn(*args, **kwargs)
        except DosewiseError as error:
            _fail(error)
        except ImportError as error:  # an optional extra that is not installed
            extra = missing_extra(error)
            if extra is None:
                raise
            _fail(extra)

    return wrapper  # type: ignore[return-value]


def refuse_non_finite(options: Mapping[str, Any]) -> None:
    """NaN or infinity in any float option (alone or in a list) is a usage error: no physical
    quantity a command takes is either, and checking here covers every command at once."""
    for name, value in options.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, float) and not math.isfinite(item):
                flag = "--" + name.replace("_", "-")
                raise InvalidParameterError(f"{flag} must be a finite number, got {item}")


def exit_if_failed(failed: Sequence[Any], attempted: int) -> None:
    """The batch policy's end (``dosewise.workflows._batch``): one line per input that failed,
    a summary, exit code 2; nothing when every input went through."""
    if not failed:
        return
    for failure in failed:
        print(f"dosewise: error: {failure.message}", file=sys.stderr)
    print(f"dosewise: error: {len(failed)} of {attempted} input(s) failed; the others were written",
          file=sys.stderr)
    raise typer.Exit(code=2)


def _fail(error: DosewiseError) -> NoReturn:
    message = " ".join(str(error).split())
    print(f"dosewise: error: {message}", file=sys.stderr)
    raise typer.Exit(code=2) from None


def choice_or_text(choices: type[E]) -> Callable[[str], E | str]:
    """A typer ``parser`` for a choice the API checks itself: a valid value becomes its
    ``choices`` member, anything else reaches the API as text and is refused there in one
    line (``dosewise: error: ...``), as before the choice was an enum."""

    def parse(value: str) -> E | str:
        try:
            return choices(value)
        except ValueError:
            return value

    return parse


def emit_json(payload: dict[str, Any]) -> None:
    """Print exactly one JSON object on stdout, for scripts."""
    sys.stdout.write(json.dumps(payload, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def report_training(result: Any, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """Where a training or pretraining run left its files, and its final metrics; printed by the
    first process only when Lightning runs several (DDP), so ``--json`` stays one object."""
    from lightning.pytorch.utilities.rank_zero import rank_zero_only

    if rank_zero_only.rank != 0:
        return
    report = {
        "out_dir": str(result.out_dir),
        "best_checkpoint": str(result.best_checkpoint) if result.best_checkpoint else None,
        "last_checkpoint": str(result.last_checkpoint),
        "metrics": result.metrics,
        "curves_png": str(result.curves_png),
        **(extra or {}),
    }
    if as_json:
        emit_json(report)
        return
    metrics = ", ".join(f"{key} {value:.4g}" for key, value in sorted(result.metrics.items()))
    console.print(f"done: {metrics}")
    console.print(f"best checkpoint: {report['best_checkpoint']}  curves: {report['curves_png']}")


RecipeT = TypeVar("RecipeT", bound="Recipe")


def recipe(cls: type[RecipeT], path: Path | None, overrides: Mapping[str, Any]) -> RecipeT:
    """The recipe ``cls`` (a :class:`dosewise.config.Recipe`) from the YAML file ``path`` (none:
    from the flags alone) with the flags ``overrides`` on top; ``None`` means "not given" (see
    :func:`dosewise.config.apply_overrides`)."""
    from dosewise.config import apply_overrides

    if path is not None:
        return cls.from_yaml(path, overrides)
    return cls.validate_dict(apply_overrides({}, overrides))


def recipe_mapping(path: Path | None, overrides: Mapping[str, Any], *, drop: Iterable[str] = ()) -> dict[str, Any]:
    """The mapping of the YAML file ``path`` (none: empty) with ``overrides`` on top, for a
    command that completes it before validating (see :func:`recipe`). ``drop`` names the
    (dotted) keys of the YAML that given flags replace whole, removed before the merge."""
    from dosewise.config import apply_overrides
    from dosewise.io.yaml_file import read_yaml_mapping

    raw = read_yaml_mapping(path) if path is not None else {}
    for dotted in drop:
        *parents, last = dotted.split(".")
        section: Any = raw
        for key in parents:
            section = section.get(key) if isinstance(section, dict) else None
        if isinstance(section, dict):
            section.pop(last, None)
    return apply_overrides(raw, overrides)
