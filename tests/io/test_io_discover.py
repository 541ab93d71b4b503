"""Folders and patterns are expanded by dosewise itself (Windows shells pass ``*.dm4`` as is)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from dosewise.errors import InputFileError
from dosewise.io import expand_inputs
from tests.helpers.cli import assert_one_line_error, invoke


@pytest.fixture
def session(tmp_path: Path) -> Path:
    folder = tmp_path / "session"
    (folder / "denoised").mkdir(parents=True)
    for name in ("b.tif", "a.tif", "c.npy", "notes.txt", ".hidden.tif", "denoised/a_denoised.tif"):
        if name.endswith(".npy"):
            np.save(folder / name, np.ones((8, 8), np.float32))
        elif name.endswith(".tif"):
            tifffile.imwrite(folder / name, np.ones((8, 8), np.float32))
        else:
            (folder / name).write_text("not an image", encoding="utf-8")
    return folder


def test_a_folder_is_its_image_files_not_its_subfolders(session: Path) -> None:
    assert [p.name for p in expand_inputs([session])] == ["a.tif", "b.tif", "c.npy"]


def test_patterns_expand_in_order_and_each_file_once(session: Path) -> None:
    found = expand_inputs([str(session / "b.tif"), str(session / "*.tif"), str(session / "**" / "*_denoised.tif")])
    assert [p.relative_to(session).as_posix() for p in found] == ["b.tif", "a.tif", "denoised/a_denoised.tif"]


def test_an_empty_folder_or_pattern_is_a_one_line_error_and_plain_files_pass_through(session: Path,
                                                                                       tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="no image files"):
        expand_inputs([tmp_path / "empty"])
    with pytest.raises(InputFileError, match="no image file matches"):
        expand_inputs([str(session / "*.dm4")])
    assert expand_inputs([tmp_path / "missing.tif"]) == [tmp_path / "missing.tif"]


def test_dosewise_denoise_takes_a_quoted_pattern_and_a_folder(session: Path, tmp_path: Path) -> None:
    result = invoke("denoise", str(session / "*.tif"), "-o", str(tmp_path / "out"), "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_denoised.tif", "b_denoised.tif"]
    assert_one_line_error(invoke("denoise", str(tmp_path / "out" / "*.dm4"), "-o", str(tmp_path / "x")),
                          "no image file matches")
