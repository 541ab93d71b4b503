"""What the file commands do alike: an output already there is refused before any work (never lost
silently), replaced with --overwrite, or its input skipped with --skip-existing; -o is always a
folder; --json stays alone on stdout; usage errors are one line like every other user mistake."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests.helpers.cli import assert_one_line_error, invoke

COMMANDS = {
    "denoise": (["--device", "cpu"], "a_denoised.tif"),
    "segment": (["--device", "cpu"], "a_mask.tif"),
    "supersample": (["--coverage", "1/16", "--device", "cpu"], "a_supersampled.tif"),
}


@pytest.fixture
def two_images(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = [tmp_path / "a.tif", tmp_path / "b.tif"]
    for path in paths:
        tifffile.imwrite(path, rng.poisson(20.0, (40, 48)).astype(np.float32))
    return paths


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_existing_output_is_refused_then_overwritten_or_skipped(command: str, two_images: list[Path],
                                                                   tmp_path: Path) -> None:
    options, first_output = COMMANDS[command]
    out = tmp_path / "out"
    out.mkdir()
    earlier = out / first_output
    earlier.write_bytes(b"an earlier result")
    refused = invoke(command, *map(str, two_images), "-o", str(out), *options)
    assert_one_line_error(refused, "exists already", "--overwrite", "--skip-existing")
    assert earlier.read_bytes() == b"an earlier result" and sorted(p.name for p in out.iterdir()) == [first_output]

    skipped = invoke(command, *map(str, two_images), "-o", str(out), *options, "--skip-existing", "--json")
    assert skipped.exit_code == 0, skipped.output
    assert earlier.read_bytes() == b"an earlier result"
    assert any(p.name.startswith("b_") for p in out.iterdir())
    assert json.loads(skipped.stdout)["skipped"] == [str(two_images[0])]

    replaced = invoke(command, *map(str, two_images), "-o", str(out), *options, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert earlier.read_bytes() != b"an earlier result"


def test_overwrite_and_skip_existing_together_are_one_line(two_images: list[Path], tmp_path: Path) -> None:
    result = invoke("denoise", str(two_images[0]), "-o", str(tmp_path / "out"), "--overwrite", "--skip-existing")
    assert_one_line_error(result, "not both")


def test_o_is_always_a_folder_and_output_names_one_file(two_images: list[Path], tmp_path: Path) -> None:
    result = invoke("noise", str(two_images[0]), "-o", str(tmp_path / "out"), "--dose", "5", "--dose-unit", "e/px")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "a_noisy.tif").is_file()
    result = invoke("subsample", str(two_images[0]), "-o", str(tmp_path / "out"), "--coverage", "1/16")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "a_partial.tif").is_file()
    assert_one_line_error(invoke("noise", str(two_images[0]), "-o", str(tmp_path / "x.tif"), "--dose", "5"),
                          "-o names a folder", "--output")
    assert not (tmp_path / "x.tif").exists()
    assert_one_line_error(invoke("subsample", str(two_images[0]), "--coverage", "1/16"), "-o FOLDER", "--output FILE")


def test_a_batch_reports_json_on_stdout_alone_with_progress_on_stderr(two_images: list[Path], tmp_path: Path) -> None:
    result = invoke("denoise", *map(str, two_images), "-o", str(tmp_path / "out"), "--device", "cpu", "--json")
    assert result.exit_code == 0, result.output
    assert [Path(i["image"]).name for i in json.loads(result.stdout)["images"]] == ["a.tif", "b.tif"]


@pytest.mark.parametrize(("arguments", "fragment"), [
    (["noise", "x.tif", "-o", "out", "--dose", "abc"], "Invalid value for '--dose'"),
    (["denoise"], "Missing argument"),
    (["nosuch"], "No such command"),
    (["simulate", "hrtem", "--bogus", "1"], "No such option: --bogus"),
])
def test_usage_errors_are_one_line_too(arguments: list[str], fragment: str) -> None:
    assert_one_line_error(invoke(*arguments), fragment, "--help")


@pytest.mark.parametrize(("options", "fragment"), [
    (["--dose", "1e19", "--dose-unit", "e/px"], "dose must be at most"),
    (["--dose", "1e300", "--dose-unit", "e/px"], "dose must be at most"),
    (["--dose", "5", "--dose-unit", "e/px", "--readout", "1e300"], "readout noise N0 must be"),
    (["--dose", "5", "--dose-unit", "e/px", "--seed", "-1"], "seed must be an integer >= 0"),
    (["--dose", "nan", "--dose-unit", "e/px"], "--dose must be a finite number"),
])
def test_extreme_numbers_are_one_line_errors_not_tracebacks(options: list[str], fragment: str,
                                                            two_images: list[Path], tmp_path: Path) -> None:
    result = invoke("noise", str(two_images[0]), "--output", str(tmp_path / "noisy.tif"), *options)
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "noisy.tif").exists()


@pytest.mark.parametrize(("arguments", "fragment"), [
    (["subsample", "{image}", "-o", "{out}", "--coverage", "1"], "2 <= s <= 32"),
    (["subsample", "{image}", "-o", "{out}", "--coverage", "1/100000000"], "2 <= s <= 32"),
    (["fit-mtf", "{image}", "--region", "0", "0", "32", "32", "--min-r2", "nan"], "--min-r2 must be"),
])
def test_nonsense_numbers_are_refused_before_anything_is_written(arguments: list[str], fragment: str,
                                                                 two_images: list[Path], tmp_path: Path) -> None:
    filled = [a.format(image=two_images[0], out=tmp_path / "out") for a in arguments]
    assert_one_line_error(invoke(*filled), fragment)
    assert not (tmp_path / "out").exists()
