"""Where the checkout and the real-micrograph corpus beside it (``../shared/data/real``) live."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "real"
