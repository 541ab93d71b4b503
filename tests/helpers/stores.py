"""Reading a whole ``DatasetStore`` back for comparisons."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dosewise.io import DatasetStore


def store_contents(path: Path) -> dict[str, tuple[dict, dict[str, np.ndarray]]]:
    """``{sample id: (metadata, {name: array})}`` for every sample in the store at ``path``."""
    store = DatasetStore.open(path)
    return {i: (store.sample(i).metadata, store.sample(i).arrays()) for i in store.ids()}
