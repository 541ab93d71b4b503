"""The shipped nanoparticle segmenter (dosewise/weights/segment-particles.ckpt): loads offline,
is the default of ``dosewise segment``, keeps the input's shape for every pixel type and finds
dark particles on a bright ground and bright ones on a dark ground alike."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

import dosewise.infer.segmentation as segmentation_module
from dosewise.checkpoint import load_model
from dosewise.infer.segmentation import default_segmenter_path, segment
from dosewise.metrics import dice
from tests.helpers.cli import assert_one_line_error, invoke


def particle_field(shape: tuple[int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Blurred dark discs (radius 9-16 px) on a bright, shot-noisy ground and their mask."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    mask = np.zeros(shape, bool)
    for _ in range(5):
        r = rng.uniform(9, 16)
        cy, cx = rng.uniform(r, shape[0] - r), rng.uniform(r, shape[1] - r)
        mask |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
    clean = gaussian_filter(np.where(mask, 0.45, 1.0), 1.0)
    return rng.poisson(200 * clean).astype(np.float32), mask


def test_the_shipped_segmenter_is_small_loads_offline_and_came_from_the_pretrained_encoder() -> None:
    path = default_segmenter_path()
    assert path.stat().st_size < 10 * 2**20
    model = load_model(path)
    assert model.task == "segment" and model.model_config.name == "hrnet"
    recipe = torch.load(path, map_location="cpu", weights_only=False)["hyper_parameters"]
    assert Path(recipe["init"]).name == "pretrained-hrnet.ckpt"


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("polarity", ["dark", "bright"])
def test_dark_and_bright_particles_of_any_pixel_type_and_odd_size(dtype: type, polarity: str) -> None:
    counts, mask = particle_field((151, 173), seed=3)
    image = counts if polarity == "dark" else counts.max() - counts
    image = (image / image.max() * (250 if dtype == np.uint8 else 60000 if dtype == np.uint16 else 1.7)).astype(dtype)
    result = segment(image, load_model(default_segmenter_path()), device="cpu")
    assert result.mask.shape == image.shape and result.probability.shape == image.shape
    assert dice(result.mask, mask) > 0.85


def test_dosewise_segment_needs_no_model(tmp_path: Path) -> None:
    counts, _ = particle_field((97, 131), seed=4)
    tifffile.imwrite(tmp_path / "field.tif", counts.astype(np.uint16))
    result = invoke("segment", str(tmp_path / "field.tif"), "-o", str(tmp_path / "out"), "--device", "cpu", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert Path(report["model"]).name == "segment-particles.ckpt"
    assert report["images"][0]["particles"] >= 1
    assert tifffile.imread(tmp_path / "out" / "field_mask.tif").shape == (97, 131)


def test_a_missing_shipped_segmenter_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(segmentation_module, "DEFAULT_SEGMENTER", "not-installed.ckpt")
    tifffile.imwrite(tmp_path / "field.tif", np.zeros((20, 20), np.float32))
    result = invoke("segment", str(tmp_path / "field.tif"), "-o", str(tmp_path / "out"))
    assert_one_line_error(result, "no default particle segmentation model is installed", "--model")
    assert not (tmp_path / "out").exists()
