"""segment() wires normalisation, tiled prediction, threshold and measurement together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.image import EMImage
from dosewise.infer import segment
from dosewise.report.overlay import overlay_png


class Scale:
    """A normalisation that divides by a constant, so the test can see it was applied."""

    def __init__(self, divisor: float) -> None:
        self.divisor = divisor

    def apply(self, image: np.ndarray) -> np.ndarray:
        return image / self.divisor


@dataclass
class FakeModel:
    """LoadedModel-like: logits = 10 * (normalised - 0.5), so a 1.0 pixel gives p = 0.993."""

    network: nn.Module
    normalisation: Scale
    threshold: float | None = None
    task: str = "segment"


def logit_net() -> nn.Module:
    conv = nn.Conv2d(1, 1, 1)
    with torch.no_grad():
        conv.weight.fill_(10.0)
        conv.bias.fill_(-5.0)
    return conv


def two_discs(shape: tuple[int, int] = (90, 130)) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    a = (yy - 45) ** 2 + (xx - 30) ** 2 <= 12**2
    b = (yy - 40) ** 2 + (xx - 95) ** 2 <= 8**2
    return (a | b).astype(np.float32)


def test_segment_finds_the_particles_with_sizes_in_nm() -> None:
    truth = two_discs()
    image = EMImage(data=truth * 200.0, pixel_size_A=2.0)
    model = FakeModel(logit_net(), Scale(200.0))
    result = segment(image, model, tile_px=64, overlap_px=8, device="cpu")
    assert result.probability.shape == truth.shape and result.probability.dtype == np.float32
    assert result.threshold == 0.5
    np.testing.assert_array_equal(result.mask, truth.astype(bool))
    assert len(result.particles) == 2
    assert all(p.area_nm2 == pytest.approx(p.area_px * 0.04) for p in result.particles)


def test_threshold_comes_from_the_caller_then_the_model() -> None:
    # normalised 0.6 -> logit 1 -> p = 0.73: inside at 0.5, outside at 0.9 (seed 003).
    image = two_discs() * 0.6
    model = FakeModel(logit_net(), Scale(1.0), threshold=0.9)
    assert not segment(image, model, tile_px=64, overlap_px=8, device="cpu").mask.any()
    result = segment(image, model, threshold=0.5, tile_px=64, overlap_px=8, device="cpu")
    assert result.threshold == 0.5 and len(result.particles) == 2
    assert result.particles[0].area_nm2 is None  # bare array: no pixel size


@pytest.mark.parametrize(
    ("image", "task", "kwargs", "error", "message"),
    [
        (two_discs(), "restore", {}, InvalidParameterError, "restore"),
        (two_discs(), "segment", {"threshold": 1.0}, InvalidParameterError, "threshold"),
        (np.stack([two_discs()] * 2), "segment", {}, InvalidImageError, "one at a time"),
    ],
)
def test_segment_refuses_bad_requests(
    image: np.ndarray, task: str, kwargs: dict[str, float], error: type, message: str
) -> None:
    model = FakeModel(logit_net(), Scale(1.0), task=task)
    with pytest.raises(error, match=message):
        segment(image, model, tile_px=64, overlap_px=8, device="cpu", **kwargs)


def test_overlay_png_tints_and_outlines_the_mask(tmp_path: Path) -> None:
    image = np.random.default_rng(0).normal(size=(90, 130)).astype(np.float32)
    mask = two_discs().astype(bool)
    path = overlay_png(tmp_path / "overlay.png", image, mask, colour=(255, 0, 0), alpha=0.5)
    rgb = np.asarray(Image.open(path))
    assert rgb.shape == (90, 130, 3) and rgb.dtype == np.uint8
    outside = rgb[~mask]
    assert (outside[:, 0] == outside[:, 1]).all()  # untouched pixels stay grey
    inside = rgb[mask].astype(int)
    assert (inside[:, 0] > inside[:, 1]).all()  # mask pixels are red-tinted
    assert (rgb[45, 18] == (255, 0, 0)).all()  # left edge of the first disc is outlined solid
    assert sorted(p.name for p in tmp_path.iterdir()) == ["overlay.png"]
    with pytest.raises(InvalidImageError, match="same shape"):
        overlay_png(tmp_path / "bad.png", image, mask[:10])
