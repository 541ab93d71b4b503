"""The one policy of every command that takes several files (``denoise``, ``segment``,
``supersample``): every readable input is processed; an input that cannot be read or used is
reported in one line and the batch goes on; the command exits with code 2 at the end when any
failed, so a night's batch is not lost to one truncated file and the failure is not silent.

Each input's outputs are written as one :func:`~dosewise.io.output_group`: they appear together
or not at all. Errors that are not the input's fault (an output that cannot be written, a full
disk) stop the batch at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from dosewise.errors import InputFileError, InvalidImageError, InvalidParameterError
from dosewise.io import output_group
from dosewise.workflows._progress import each

T = TypeVar("T")
R = TypeVar("R")

PER_INPUT_ERRORS = (InputFileError, InvalidImageError, InvalidParameterError)
"""What one bad input raises (unreadable, truncated, NaN, wrong shape, no such signal)."""


@dataclass(frozen=True)
class FailedInput:
    """An input a batch left out, and why (one line, naming the file)."""

    image: Path
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"image": str(self.image), "error": self.message}


def run_batch(
    items: Iterable[T],
    step: Callable[[T], R],
    *,
    path_of: Callable[[T], Path],
    description: str,
    progress: bool,
) -> tuple[list[R], list[FailedInput]]:
    """``step`` on every item (its outputs as one group); the results, and the inputs that failed."""
    results: list[R] = []
    failed: list[FailedInput] = []
    for item in each(items, description, enabled=progress):
        try:
            with output_group():
                results.append(step(item))
        except PER_INPUT_ERRORS as error:
            path = path_of(item)
            message = str(error) if error.path is not None else f"{path}: {error.problem}"
            failed.append(FailedInput(path, " ".join(message.split())))
    return results, failed
