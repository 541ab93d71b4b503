"""What every command shares: one-line user errors with exit code 2, and ``--json`` output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import typer
from rich.console import Console

from dosewise.errors import DosewiseError

console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout instead of a table.")]


def user_errors_exit_2(fn: F) -> F:
    """Report a user mistake as one line on stderr with exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DosewiseError as error:
            message = " ".join(str(error).split())
            print(f"dosewise: error: {message}", file=sys.stderr)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


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
    """Where a training or pretraining run left its files, and its final metrics."""
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
