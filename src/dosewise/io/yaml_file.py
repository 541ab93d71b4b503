"""Read a YAML file that must hold a mapping (recipes, MTF presets): one reader for all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dosewise.errors import InputFileError
from dosewise.io.writers import atomic_write


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """The mapping in ``path``; any problem is one line naming the file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputFileError("file not found", path) from exc
    except IsADirectoryError as exc:
        raise InputFileError("is a folder, not a YAML file", path) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())
        raise InputFileError(f"cannot read YAML: {reason}", path) from exc
    if not isinstance(raw, dict):
        raise InputFileError("must be a YAML mapping of field: value", path)
    return raw


def write_yaml(path: str | Path, mapping: dict[str, Any], *, header: str = "",
               inputs: tuple[str | Path, ...] = ()) -> Path:
    """Write ``mapping`` as YAML (keys in order), atomically; ``header`` lines become comments."""
    path = Path(path)
    text = "".join(f"# {line}\n" for line in header.splitlines()) + yaml.safe_dump(mapping, sort_keys=False)
    with atomic_write(path, inputs=inputs) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
