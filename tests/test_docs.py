"""The documentation site builds with ``mkdocs build --strict``: a broken link, a missing page in
the nav or an API page whose object moved fails here, so the docs cannot rot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None,
                    reason="mkdocs is not installed (requirements.txt installs it)")
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).parent / "mkdocs"
    result = subprocess.run([str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    for page in ("index.html", "api/hyperspy/index.html", "notebooks/denoise_hyperspy/index.html"):
        assert (tmp_path / "site" / page).is_file()
    assert "dosewise.hyperspy.denoise" in (tmp_path / "site" / "api" / "hyperspy" / "index.html").read_text()
