"""Which image files a folder or a pattern names, the same way on every shell.

Windows shells pass ``*.dm4`` to a program unexpanded, and microscopists name folders of a
session more often than files; every command that takes several images expands folders and
patterns here, so ``dosewise denoise session/`` and ``dosewise denoise "session/*.dm4"`` work
everywhere.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

from dosewise.errors import InputFileError
from dosewise.io.readers import SUPPORTED_SUFFIXES

_PATTERN_CHARS = frozenset("*?[")


def image_files(folder: str | Path, *, recursive: bool = False) -> list[Path]:
    """The readable-looking files of ``folder`` (sorted; hidden files and ``.zarr`` stores left
    out), including subfolders when ``recursive``."""
    suffixes = {s.lower() for s in SUPPORTED_SUFFIXES}
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if recursive and not d.startswith(".") and not d.endswith(".zarr"))
        found += [Path(root, name) for name in files
                  if not name.startswith(".") and Path(name).suffix.lower() in suffixes]
    return sorted(found)


def expand_inputs(arguments: Sequence[str | Path]) -> list[Path]:
    """Files as given, each folder as its image files (not its subfolders: an output folder
    inside it is not read back), each pattern (``*``, ``?``, ``[...]``, ``**``) as the image
    files it matches; in order, each file once. A folder or pattern with no image is a
    one-line error; a missing plain file is left for the reader to report."""
    suffixes = {s.lower() for s in SUPPORTED_SUFFIXES}
    expanded: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = image_files(path)
            if not found:
                raise InputFileError(f"no image files ({', '.join(SUPPORTED_SUFFIXES)}) in this folder", path)
        elif not path.exists() and _PATTERN_CHARS & set(str(argument)):
            found = [Path(p) for p in sorted(glob.glob(str(argument), recursive=True))
                     if Path(p).is_file() and Path(p).suffix.lower() in suffixes]
            if not found:
                raise InputFileError("no image file matches this pattern", path)
        else:
            found = [path]
        expanded += [p for p in found if p not in expanded]
    return expanded
