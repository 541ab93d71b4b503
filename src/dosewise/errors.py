"""One error family for everything a user can get wrong.

The CLI catches :class:`DosewiseError` and prints its message as a single line
on stderr with exit code 2, so every message must name the file (when there is
one) and the problem, and must make sense without a traceback.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class DosewiseError(Exception):
    """Base class of every error caused by user input (files, parameters)."""

    def __init__(self, problem: str, path: str | Path | None = None) -> None:
        self.problem = problem
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)


class InputFileError(DosewiseError):
    """A file is missing, unreadable, truncated or in a format we do not know."""


class InvalidImageError(DosewiseError):
    """An image was read but cannot be used: empty, 1 pixel, NaN/inf, wrong dimensions."""


class InvalidParameterError(DosewiseError):
    """A numeric or named parameter is out of range (dose <= 0, unknown preset, ...)."""


class OutputFileError(DosewiseError):
    """An output cannot be written, or writing it would overwrite an input."""


class MissingExtraError(DosewiseError):
    """A command needs a package of an optional extra (``pip install 'dosewise[train]'``)."""


EXTRA_OF_MODULE: dict[str, str] = {
    "lightning": "train", "segmentation_models_pytorch": "train", "timm": "train", "tensorboard": "train",
    "torchvision": "train", "abtem": "sim", "ase": "sim", "dask": "sim", "distributed": "sim",
    "hyperspy": "hyperspy", "napari": "napari", "starlette": "serve", "uvicorn": "serve", "multipart": "serve",
    "bioimageio": "bmz",
}
"""Top-level module -> the extra of ``pyproject.toml`` that installs it; the core (reading,
physics, inference) needs none of them."""


def missing_extra(error: ImportError) -> MissingExtraError | None:
    """The one-line error for an import that failed because an extra is not installed, or
    ``None`` when the missing module belongs to no extra (a real bug, to be raised as is)."""
    name = (getattr(error, "name", None) or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(name)
    if extra is None:
        return None
    return MissingExtraError(f"this needs {name!r}, part of the [{extra}] extra: "
                             f"pip install 'dosewise[{extra}]'")


def describe_validation_error(exc: ValidationError) -> str:
    """A pydantic error as one line: the first problem as ``field.path: message``, plus
    how many more there are. Every recipe, preset and options model reports through this."""
    errors = exc.errors()
    first = errors[0]
    field = ".".join(str(part) for part in first["loc"]) or "config"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    if not message.startswith(f"{field} "):  # a sentence that names its field already stands alone
        message = f"{field}: {message}"
    return f"{message}{more}"
