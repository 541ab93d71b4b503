"""``dosewise export --bmz``: a BioImage.IO package that bioimageio.core validates on its own and
that computes what dosewise computes on a frame it never saw; bad targets and a package that does
not reproduce its test output are one-line errors that leave nothing behind."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from dosewise.checkpoint import load_model
from dosewise.infer.denoise import default_model_path
from dosewise.infer.supersample import default_supersampler_path
from tests.helpers.checkpoints import write_segmentation_checkpoint
from tests.helpers.cli import assert_one_line_error, invoke

bioimageio_core = pytest.importorskip("bioimageio.core")

TINY_TILE_PX = 64
SHIPPED_TILE_PX = 256


def unseen_frame(size: int) -> np.ndarray:
    """Poisson counts around 400 with a bright disc: nothing like the package's HRTEM test input."""
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - 0.4 * size) ** 2 + (xx - 0.6 * size) ** 2 <= (0.2 * size) ** 2
    return np.random.default_rng(7).poisson(np.where(disc, 900.0, 400.0)).astype(np.float32)


@pytest.fixture(scope="module", params=["segmenter", "denoiser"])
def package(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The CLI's package of a tiny MSD-net segmenter (64 px) or the shipped denoiser (256 px)."""
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "segmenter":
        checkpoint, tile = write_segmentation_checkpoint(folder / "seg.ckpt", depth=4, max_dilation=3,
                                                           head_seed=0), TINY_TILE_PX
    else:
        checkpoint, tile = default_model_path(), SHIPPED_TILE_PX
    result = invoke("export", checkpoint, "--bmz", folder / "model.zip", "--tile", tile, "--json")
    assert result.exit_code == 0, result.output
    return {"checkpoint": checkpoint, "zip": folder / "model.zip", "tile": tile, "report": json.loads(result.stdout)}


def test_the_package_passes_bioimageio_core_test_model_on_its_own(package: dict[str, Any]) -> None:
    report = package["report"]
    assert report["bmz_test_model"] == "passed" and sorted(report["bmz_weights"]) == ["onnx", "torchscript"]
    assert report["bmz_format_version"].startswith("0.5.") and report["tile_px"] == package["tile"]
    summary = bioimageio_core.test_model(package["zip"])
    assert summary.status == "passed", summary.format()
    names = set(zipfile.ZipFile(package["zip"]).namelist())
    assert {"rdf.yaml", "README.md", "cover.png", "test_input.npy", "test_output.npy"} <= names
    readme = zipfile.ZipFile(package["zip"]).read("README.md").decode()
    assert "Validation" in readme and "halo" in readme
    if package["checkpoint"] == default_model_path():  # the shipped model's card travels with it
        assert "Model card: `denoise-default.ckpt`" in readme and "z-scores" in readme


@pytest.mark.parametrize("weight_format", ["torchscript", "onnx"])
def test_the_package_computes_what_dosewise_computes_on_an_unseen_frame(
        package: dict[str, Any], weight_format: str) -> None:
    from bioimageio.core import create_prediction_pipeline, load_model_description, predict

    frame = unseen_frame(package["tile"])
    descr = load_model_description(package["zip"])
    # predict enters and leaves the pipeline (loads and unloads the weights) itself
    output = predict(model=create_prediction_pipeline(descr, weight_format=weight_format), inputs=frame[None, None])
    (member,) = output.members.values()
    actual = member.data.to_numpy()[0, 0]
    model = load_model(package["checkpoint"])
    if model.task == "segment":
        expected = model.predict(frame)  # dosewise's probability
    else:  # the network on dosewise's normalisation: z-scores of the input
        with torch.no_grad():
            expected = model.network(torch.from_numpy(model.normalisation.apply(frame))[None, None])[0, 0].numpy()
    assert actual.shape == expected.shape == frame.shape and np.ptp(expected) > 0.1  # an output that varies
    error = float(np.abs(actual - expected).max())
    assert error <= 1e-4 * np.ptp(expected), (error, np.ptp(expected))


def test_bad_targets_are_one_line_errors_that_write_nothing(tmp_path: Path) -> None:
    checkpoint = write_segmentation_checkpoint(tmp_path / "seg.ckpt")
    out = tmp_path / "out"
    out.mkdir()
    taken = out / "taken.zip"
    taken.write_bytes(b"mine")
    cases = [
        ((), "give --onnx OUT.onnx, --bmz OUT.zip or both"),
        (("--bmz", out / "model.onnx"), "must end in .zip"),
        (("--bmz", out / "missing" / "model.zip"), "does not exist"),
        (("--bmz", taken), "exists already"),
        (("--onnx", out / "new.onnx", "--bmz", taken), "exists already"),  # refused before the ONNX is written
        (("--bmz", out / "model.zip", "--tile", 8), "--tile must be >= 16"),
    ]
    for options, message in cases:
        assert_one_line_error(invoke("export", checkpoint, *options), message)
    assert_one_line_error(invoke("export", default_supersampler_path(), "--bmz", out / "s.zip"),
                          "cannot be exported to BioImage.IO yet")
    assert sorted(p.name for p in out.iterdir()) == ["taken.zip"] and taken.read_bytes() == b"mine"


def test_a_package_that_does_not_reproduce_its_test_output_is_not_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dosewise.workflows import bmz

    checkpoint = write_segmentation_checkpoint(tmp_path / "seg.ckpt", head_seed=0)
    right = bmz._dosewise_output
    monkeypatch.setattr(bmz, "_dosewise_output", lambda loaded, frame: right(loaded, frame) + 0.1)
    out = tmp_path / "out"
    out.mkdir()
    result = invoke("export", checkpoint, "--onnx", out / "m.onnx", "--bmz", out / "m.zip", "--tile", TINY_TILE_PX)
    assert_one_line_error(result, "bioimageio.core.test_model fails on the package")
    assert list(out.iterdir()) == []  # neither the package nor the ONNX file beside it
