"""A hostile but realistic user: NaN and extreme numbers in every option, a truncated file in a
batch, a kill in the middle of writing, outputs already there. Each class is fixed once at its
root (the command wrapper, the batch runner, the output group, the reader) and kept here."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile
import typer
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dosewise.cli.main import app
from tests.helpers.cli import assert_one_line_error, invoke

REPO = Path(__file__).resolve().parents[2]


def _commands(command: object = None, path: tuple[str, ...] = ()) -> list[tuple[str, object]]:
    """Every leaf command of the ``dosewise`` app, by its full name."""
    command = typer.main.get_command(app) if command is None else command
    if hasattr(command, "commands"):
        return [leaf for name, sub in command.commands.items() for leaf in _commands(sub, (*path, name))]
    return [(" ".join(path), command)]


FLOAT_OPTIONS = [(name, param) for name, command in _commands() for param in command.params
                 if "float" in repr(param.type_descriptor.annotation)]


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, np.random.default_rng(0).poisson(20.0, (48, 48)).astype(np.float32) + 1)
    return path


def _truncated(tmp_path: Path) -> Path:
    full = tmp_path / "full.tif"
    tifffile.imwrite(full, np.ones((3, 256, 256), np.float32))
    path = tmp_path / "truncated.tif"
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    full.unlink()
    return path


# --------------------------------------------------------------------------- numbers
def test_every_float_option_of_every_command_is_found() -> None:
    names = {(command, param.name) for command, param in FLOAT_OPTIONS}
    assert {("noise", "dose"), ("fit-mtf", "min_r2"), ("simulate hrtem", "dose_range"), ("finetune", "lr")} <= names
    assert len(FLOAT_OPTIONS) >= 30


@pytest.mark.parametrize(("command", "param"), FLOAT_OPTIONS, ids=[f"{c}:{p.name}" for c, p in FLOAT_OPTIONS])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_in_every_float_option(command: str, param: object, bad: float,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    annotation = repr(param.type_descriptor.annotation)
    value = (bad, 1.0) if "tuple" in annotation else [bad] if "list" in annotation else bad
    with pytest.raises(typer.Exit) as stopped:  # refused before the command's own code runs
        param_command = dict(_commands())[command]
        param_command.callback(**{param.name: value})
    assert stopped.value.exit_code == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith("dosewise: error: ") and param.opts[-1] in line and "finite" in line
    assert "\n" not in line


def test_nan_in_a_dose_list_is_refused(image: Path) -> None:
    stack = image.with_name("stack.tif")
    tifffile.imwrite(stack, np.ones((2, 48, 48), np.float32))
    result = invoke("fit-mtf", stack, "--region", 0, 0, 32, 32, "--doses", "1,nan", "--dose-unit", "e/px")
    assert_one_line_error(result, "dose must be a finite number > 0", "nan")


EXTREME = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
    [0.0, -0.0, 1e-320, 5e-324, 1e-30, 1e12, 1e19, 1e300, -1.0, -1e300]))
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _no_traceback(result: object) -> None:
    """Exit 0, or exit 2 with one line: never a traceback (exit 1) whatever the number."""
    assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
    if result.exit_code == 2:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("dosewise: error: "), result.stderr


@SETTINGS
@given(dose=EXTREME, readout=EXTREME, pixel_size=EXTREME)
def test_noise_takes_any_number_without_a_traceback(image: Path, tmp_path: Path, dose: float, readout: float,
                                                     pixel_size: float) -> None:
    _no_traceback(invoke("noise", image, "--output", tmp_path / "n.tif", "--overwrite", "--dose", repr(dose),
                         "--readout", repr(readout), "--pixel-size", repr(pixel_size)))


@SETTINGS
@given(s=st.one_of(st.integers(-5, 200), st.floats(allow_nan=True, allow_infinity=True)),
       style=st.sampled_from(["1/{}", "{}", "1/{}^2"]))
def test_subsample_takes_any_coverage_without_a_traceback(image: Path, tmp_path: Path, s: object, style: str) -> None:
    _no_traceback(invoke("subsample", image, "--output", tmp_path / "p.tif", "--overwrite",
                         "--coverage", style.format(s)))


@SETTINGS
@given(min_r2=EXTREME, pixel_size=EXTREME, dose=EXTREME)
def test_fit_mtf_takes_any_number_without_a_traceback(image: Path, tmp_path: Path, min_r2: float,
                                                       pixel_size: float, dose: float) -> None:
    _no_traceback(invoke("fit-mtf", image, "--region", 0, 0, 48, 48, "--plot", tmp_path / "fit.png", "--overwrite",
                         "--min-r2", repr(min_r2), "--pixel-size", repr(pixel_size), "--doses", repr(dose)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(low=EXTREME, high=EXTREME, size=st.integers(-3, 40), diameter=EXTREME)  # fields <= 80 Å: seconds
def test_simulate_takes_any_number_without_a_traceback(tmp_path: Path, low: float, high: float, size: int,
                                                        diameter: float) -> None:
    store = tmp_path / f"s{time.perf_counter_ns()}.zarr"
    _no_traceback(invoke("simulate", "particles", "--out", store, "--n", 1, "--size", size,
                         "--dose-range", repr(low), repr(high), "--diameter-range", repr(diameter), "12"))
    _no_traceback(invoke("simulate", "hrtem", "--out", store.with_suffix(".h.zarr"), "--n", 1, "--variants", 1,
                         "--size", size, "--dose-range", repr(low), repr(high), "--pixel-size", repr(diameter)))


# --------------------------------------------------------------------------- batches
BATCH = {
    "denoise": (["--device", "cpu"], "{}_denoised.tif"),
    "segment": (["--device", "cpu"], "{}_mask.tif"),
    "supersample": (["--coverage", "1/16", "--device", "cpu"], "{}_supersampled.tif"),
}


@pytest.mark.parametrize("command", list(BATCH))
def test_a_batch_with_one_bad_file_writes_the_good_ones_and_exits_2_naming_it(command: str, image: Path,
                                                                             tmp_path: Path) -> None:
    second = image.with_name("c.tif")
    second.write_bytes(image.read_bytes())
    bad = _truncated(tmp_path)
    options, output = BATCH[command]
    result = invoke(command, image, bad, second, "-o", tmp_path / "out", *options)
    assert result.exit_code == 2, result.output
    assert (tmp_path / "out" / output.format("a")).is_file() and (tmp_path / "out" / output.format("c")).is_file()
    assert not list((tmp_path / "out").glob("truncated*"))
    lines = [line for line in result.stderr.splitlines() if line.startswith("dosewise: error:")]
    assert len(lines) == 2 and "truncated.tif" in lines[0] and "1 of 3" in lines[1], result.stderr


def test_a_truncated_tiff_says_so_in_the_users_terms(tmp_path: Path) -> None:
    result = invoke("info", _truncated(tmp_path))
    assert_one_line_error(result, "truncated.tif", "truncated or damaged TIFF (expected 786432 bytes of pixel data, "
                                                   "file has ")


# --------------------------------------------------------------------------- outputs together or not at all
ONE_RUN = {
    "noise": (["--output", "{out}/n.tif", "--dose", "5", "--dose-unit", "e/px"], ["n.tif"]),
    "subsample": (["--output", "{out}/p.tif", "--coverage", "1/4", "--mask-out", "{out}/m.tif"], ["p.tif", "m.tif"]),
    "profile": (["--start", "2", "24", "--end", "45", "24", "-o", "{out}"], ["profile.csv", "profile.png",
                                                                          "profile.json"]),
    "fit-mtf": (["--region", "0", "0", "48", "48", "-o", "{out}", "--plot", "{out}/fit.png"],
                ["fit.png", "mtf_series.csv"]),
}


@pytest.mark.parametrize("command", list(ONE_RUN))
def test_one_run_commands_refuse_an_existing_output_unless_overwrite(command: str, image: Path,
                                                                    tmp_path: Path) -> None:
    options, files = ONE_RUN[command]
    out = tmp_path / "out"
    out.mkdir()
    arguments = [command, image, *[o.format(out=out) for o in options]]
    earlier = out / files[-1]
    earlier.write_bytes(b"an earlier result")
    assert_one_line_error(invoke(*arguments), "exists already", "--overwrite")
    assert earlier.read_bytes() == b"an earlier result" and sorted(p.name for p in out.iterdir()) == [files[-1]]
    replaced = invoke(*arguments, "--overwrite")
    if replaced.exit_code == 2:  # profile of a noise image may find no particle: refused, nothing written
        assert earlier.read_bytes() == b"an earlier result"
    else:
        assert replaced.exit_code == 0, replaced.output
        assert all((out / name).is_file() for name in files) and earlier.read_bytes() != b"an earlier result"


def test_stream_refuses_the_outputs_of_an_earlier_stream(image: Path, tmp_path: Path) -> None:
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, np.ones((2, 32, 32), np.float32))
    out = tmp_path / "out"
    assert invoke("stream", stack, "-o", out, "--device", "cpu").exit_code == 0
    assert_one_line_error(invoke("stream", stack, "-o", out, "--device", "cpu"), "frame_000000.tif", "--overwrite")
    assert invoke("stream", stack, "-o", out, "--device", "cpu", "--overwrite").exit_code == 0


def test_subsample_writes_no_image_when_its_mask_is_refused(image: Path, tmp_path: Path) -> None:
    result = invoke("subsample", image, "-o", tmp_path / "out", "--coverage", "1/4", "--mask-out", image,
                    "--overwrite")
    assert_one_line_error(result, "input")
    assert not (tmp_path / "out" / "a_partial.tif").exists()


def test_profile_writes_nothing_when_its_last_file_cannot_be_written(tmp_path: Path) -> None:
    yy, xx = np.mgrid[:48, :48]
    image = tmp_path / "disc.tif"
    tifffile.imwrite(image, np.where((yy - 24) ** 2 + (xx - 24) ** 2 < 81, 0.3, 1.0).astype(np.float32))
    out = tmp_path / "out"
    (out / "profile.json").mkdir(parents=True)  # a folder where the last file goes
    result = invoke("profile", image, "--start", 2, 24, "--end", 45, 24, "-o", out, "--overwrite")
    assert_one_line_error(result, "profile.json", "is a folder")
    assert sorted(p.name for p in out.iterdir()) == ["profile.json"]


def test_a_failed_simulation_leaves_no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_one_line_error(invoke("simulate", "hrtem", "--out", tmp_path / "tiny.zarr", "--size", 3), "field of view")
    assert not (tmp_path / "tiny.zarr").exists()
    import dosewise.simulate.particle_dataset as particle_dataset
    from dosewise.errors import InvalidParameterError

    def broken(*args: object, **kwargs: object) -> None:
        raise InvalidParameterError("renderer refused")

    monkeypatch.setattr(particle_dataset, "render_particle_sample", broken)
    result = invoke("simulate", "particles", "--out", tmp_path / "p.zarr", "--n", 2, "--size", 32)
    assert result.exit_code == 2 and result.stderr.splitlines()[-1] == "dosewise: error: renderer refused"
    assert not (tmp_path / "p.zarr").exists()


KILLED_SEGMENT = """
import sys, time
import dosewise.workflows.segment as workflow
def stalled(*args, **kwargs):  # the last file of the first input: killed while the others wait
    print("writing the table", flush=True)
    time.sleep(120)
workflow.write_particles_csv = stalled
from dosewise.cli.main import app
sys.argv = ["dosewise", "segment", sys.argv[1], "-o", sys.argv[2], "--device", "cpu"]
app()
"""


def test_kill_9_in_the_middle_of_a_multi_output_command_leaves_no_final_file(image: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-c", KILLED_SEGMENT, str(image), str(out)], cwd=REPO,
                               stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert process.stdout is not None and "writing the table" in process.stdout.readline()
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    leftovers = sorted(p.name for p in out.iterdir())
    assert leftovers and all(name.startswith(".") for name in leftovers), leftovers  # temporaries only


def test_report_commands_refuse_an_earlier_report_unless_overwrite(image: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    out.mkdir()
    (out / "table.md").write_text("an earlier evaluation")
    result = invoke("evaluate", "supersample", "--data", image.parent, "-o", out, "--coverage", "1/16")
    assert_one_line_error(result, "table.md", "exists already", "--overwrite")
    assert (out / "table.md").read_text() == "an earlier evaluation"
    replaced = invoke("evaluate", "supersample", "--data", image.parent, "-o", out, "--coverage", "1/16", "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert (out / "table.md").read_text() != "an earlier evaluation" and (out / "edge_curve.png").is_file()


def test_export_refuses_an_existing_onnx_file_unless_overwrite(tmp_path: Path) -> None:
    from dosewise.infer.denoise import default_model_path

    target = tmp_path / "model.onnx"
    target.write_bytes(b"an earlier export")
    arguments = ["export", default_model_path(), "--onnx", target, "--tile", 32]
    assert_one_line_error(invoke(*arguments), "model.onnx", "exists already")
    assert target.read_bytes() == b"an earlier export"
    assert invoke(*arguments, "--overwrite").exit_code == 0 and target.read_bytes() != b"an earlier export"
