"""``pip install dosewise`` as a microscopist gets it: the wheel carries the shipped models and
works outside the checkout; a command whose optional extra is missing says which to install."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                "--disable-pip-version-check", "-q", "-w", out, ROOT, cwd=out)
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("dosewise-*.whl")
    return path


def test_the_wheel_carries_every_shipped_model_and_its_card(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = sorted(p.name for p in (ROOT / "src" / "dosewise" / "weights").iterdir() if p.suffix in {".ckpt", ".md"})
    assert shipped and all(f"dosewise/weights/{name}" in names for name in shipped)
    recipes = sorted(p.name for p in (ROOT / "src" / "dosewise" / "configs").glob("*.yaml"))
    assert recipes and all(f"dosewise/configs/{name}" in names for name in recipes)


def test_configs_copy_writes_the_shipped_recipes_and_never_overwrites(tmp_path: Path) -> None:
    from dosewise.config import TrainConfig
    from tests.helpers.cli import assert_one_line_error, invoke

    result = invoke("configs", "copy", str(tmp_path / "recipes"))
    assert result.exit_code == 0, result.output
    copied = sorted((tmp_path / "recipes").glob("*.yaml"))
    assert [p.name for p in copied] == sorted(p.name for p in (ROOT / "configs").glob("*.yaml"))
    assert TrainConfig.from_yaml(tmp_path / "recipes" / "segment-au-ceo2.yaml").task == "segment"
    (tmp_path / "recipes" / "segment-au-ceo2.yaml").write_text("# mine\n", encoding="utf-8")
    again = invoke("configs", "copy", str(tmp_path / "recipes"))
    assert_one_line_error(again, "exists already")
    assert (tmp_path / "recipes" / "segment-au-ceo2.yaml").read_text(encoding="utf-8") == "# mine\n"


def test_the_installed_wheel_denoises_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path).returncode == 0
    # a fresh venv that reuses the heavy packages already installed (torch, ...), not their download
    (site,) = (venv / "lib").glob("python*/site-packages")
    (site / "reuse_installed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps",
                    "--no-index", "--disable-pip-version-check", "-q", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    where = run(venv / "bin" / "python", "-c", "import dosewise; print(dosewise.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr
    rng = np.random.default_rng(0)
    tifffile.imwrite(tmp_path / "frame.tif", rng.poisson(5.0, (96, 112)).astype(np.uint16))
    denoised = run(venv / "bin" / "dosewise", "denoise", "frame.tif", "-o", "out", "--device", "cpu", cwd=tmp_path)
    assert denoised.returncode == 0, denoised.stderr
    output = tifffile.imread(tmp_path / "out" / "frame_denoised.tif")
    assert output.shape == (96, 112) and np.isfinite(output).all()


BLOCKED = """
import sys
for name in ("lightning", "segmentation_models_pytorch", "timm", "tensorboard", "abtem", "ase", "dask", "bioimageio"):
    sys.modules[name] = None  # as if the [train], [sim] and [bmz] extras were not installed
from dosewise.cli import app
sys.argv = ["dosewise", *sys.argv[1:]]
app()
"""


@pytest.mark.parametrize(("command", "extra"), [
    (["train", "segment", "--data", "missing.zarr", "--model", "hrnet", "--out", "run"], "train"),
    (["simulate", "hrtem", "--n", "2", "--out", "sim.zarr"], "sim"),
    (["export", str(ROOT / "src" / "dosewise" / "weights" / "denoise-default.ckpt"), "--onnx", "m.onnx",
      "--bmz", "m.zip"], "bmz"),
])
def test_a_missing_extra_is_a_one_line_error_naming_it(command: list[str], extra: str, tmp_path: Path) -> None:
    result = run(sys.executable, "-c", BLOCKED, *command, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"pip install 'dosewise[{extra}]'" in lines[0], result.stderr
    assert not any(tmp_path.iterdir())


def test_the_core_runs_the_shipped_models_without_the_extras(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "frame.tif", np.random.default_rng(1).poisson(5.0, (64, 80)).astype(np.uint16))
    result = run(sys.executable, "-c", BLOCKED, "denoise", "frame.tif", "-o", "out", "--device", "cpu",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "frame_denoised.tif").is_file()
