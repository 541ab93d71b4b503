"""Package names loaded on first use, so that ``dosewise --help`` does not import torch.

A package ``__init__`` lists where each public name lives (``{name: submodule}``) and sets
``__getattr__ = lazy_exports(__name__, homes)``; a name is imported the first time it is
read and then cached in the package. Only names of the package's own submodules are
listed, so this never crosses a floor (see docs/architecture.md).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<homes[name]>`` when ``name`` is read."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
