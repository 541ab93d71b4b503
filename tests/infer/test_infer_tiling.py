"""Tiled inference equals whole-image inference when the overlap covers the receptive field."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.infer import TiledPredictor, required_overlap_px
from dosewise.infer.tiling import plan_axis

N_CONVS = 5
RECEPTIVE_FIELD_PX = 2 * N_CONVS + 1  # five stacked 3x3 convs: 11 px, radius 5


def conv_net(out_channels: int = 2, seed: int = 0) -> nn.Module:
    """Five 3x3 convs with zero padding and nonlinearities: a known, finite receptive field."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    channels = 1
    for _ in range(N_CONVS - 1):
        layers += [nn.Conv2d(channels, 8, 3, padding=1), nn.Tanh()]
        channels = 8
    layers.append(nn.Conv2d(channels, out_channels, 3, padding=1))
    return nn.Sequential(*layers).eval()


def whole(network: nn.Module, frames: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return network(torch.from_numpy(frames[:, None])).numpy()


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(333, 517)).astype(np.float32)


def test_required_overlap_covers_the_receptive_field_radius() -> None:
    assert required_overlap_px(RECEPTIVE_FIELD_PX) == 10
    assert required_overlap_px(12) == 12  # even field: radius rounds up
    assert required_overlap_px(1) == 0
    with pytest.raises(InvalidParameterError):
        required_overlap_px(0)


@pytest.mark.parametrize("length", [77, 78, 100, 333, 517])
@pytest.mark.parametrize(("tile", "overlap"), [(64, 10), (77, 11), (64, 0), (64, 63)])
def test_axis_plan_partitions_the_axis_and_stays_inside(
    length: int, tile: int, overlap: int
) -> None:
    plan = plan_axis(length, tile, overlap)
    assert plan[0].keep_lo == 0 and plan[-1].keep_hi == length
    assert all(a.keep_hi == b.keep_lo for a, b in zip(plan, plan[1:]))
    assert all(0 <= t.start and t.start + tile <= length for t in plan)
    assert plan[-1].start + tile == length  # last tile shifted inward to the edge
    for left, right in zip(plan, plan[1:]):
        assert left.start + tile - right.start >= overlap
        assert left.start + tile - left.keep_hi >= overlap // 2
        assert right.keep_lo - right.start >= overlap // 2


@pytest.mark.parametrize(
    ("tile", "overlap", "batch_size"),
    [(64, 10, 4), (100, 12, 3), (128, 16, 1), (77, 11, 5), (200, 64, 2)],
)
def test_tiled_equals_whole_image_for_odd_sizes(
    image: np.ndarray, tile: int, overlap: int, batch_size: int
) -> None:
    assert overlap >= required_overlap_px(RECEPTIVE_FIELD_PX)
    network = conv_net()
    expected = whole(network, image[None])[0]
    predictor = TiledPredictor(
        network, tile_px=tile, overlap_px=overlap, batch_size=batch_size, device="cpu"
    )
    tiled = predictor.predict(image)
    assert tiled.shape == (2, 333, 517) and tiled.dtype == np.float32
    np.testing.assert_allclose(tiled, expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("overlap", [0, 4, 9])
def test_too_small_overlap_shows_seams(image: np.ndarray, overlap: int) -> None:
    """The equality above is not vacuous: one pixel less than required already breaks it."""
    network = conv_net()
    expected = whole(network, image[None])[0]
    tiled = TiledPredictor(network, tile_px=64, overlap_px=overlap, device="cpu").predict(image)
    assert np.abs(tiled - expected).max() > 1e-2


def test_batch_of_frames_matches_frame_by_frame() -> None:
    frames = np.random.default_rng(2).normal(size=(3, 150, 97)).astype(np.float32)
    network = conv_net(out_channels=1)
    predictor = TiledPredictor(network, tile_px=64, overlap_px=10, batch_size=4, device="cpu")
    batch = predictor.predict_batch(frames)
    assert batch.shape == (3, 1, 150, 97)
    np.testing.assert_allclose(batch, whole(network, frames), atol=1e-4, rtol=0)
    for frame, output in zip(frames, batch):
        np.testing.assert_array_equal(predictor.predict(frame), output)


@pytest.mark.parametrize("shape", [(40, 50), (30, 300), (2, 2)])
def test_images_smaller_than_a_tile_are_padded_and_cropped_back(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(3).normal(size=shape).astype(np.float32)
    network = conv_net()
    tiled = TiledPredictor(network, tile_px=64, overlap_px=10, device="cpu").predict(image)
    assert tiled.shape == (2, *shape)
    # Away from the image border (further than the receptive-field radius), the
    # reflect padding is out of reach and the output equals the whole-image run.
    r = RECEPTIVE_FIELD_PX // 2
    expected = whole(network, image[None])[0]
    np.testing.assert_allclose(tiled[:, r:-r, r:-r], expected[:, r:-r, r:-r], atol=1e-4, rtol=0)


def test_network_is_put_in_eval_mode() -> None:
    network = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Dropout(0.5)).train()
    image = np.ones((70, 70), np.float32)
    predictor = TiledPredictor(network, tile_px=32, overlap_px=4, device="cpu")
    assert not network.training
    np.testing.assert_array_equal(predictor.predict(image), predictor.predict(image))


def test_channels_last_and_bf16_run_on_cpu(image: np.ndarray) -> None:
    network = conv_net()
    reference = TiledPredictor(network, tile_px=128, overlap_px=16, device="cpu").predict(image)
    fast = TiledPredictor(
        network, tile_px=128, overlap_px=16, device="cpu", channels_last=True
    ).predict(image)
    np.testing.assert_allclose(fast, reference, atol=1e-4, rtol=0)
    bf16 = TiledPredictor(network, tile_px=128, overlap_px=16, device="cpu", precision="bf16")
    low = bf16.predict(image)
    assert low.dtype == np.float32
    assert np.abs(low - reference).max() < 0.1 * np.abs(reference).max()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"precision": "fp16"}, "fp16 needs a CUDA device"),
        ({"precision": "int8"}, "precision must be one of"),
        ({"tile_px": 64, "overlap_px": 64}, "overlap must be"),
        ({"overlap_px": -1}, "overlap must be"),
        ({"batch_size": 0}, "batch size"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        TiledPredictor(conv_net(), device="cpu", **kwargs)


def test_bad_images_are_refused() -> None:
    predictor = TiledPredictor(conv_net(), tile_px=32, overlap_px=10, device="cpu")
    with pytest.raises(InvalidImageError, match="one \\(H, W\\) image"):
        predictor.predict(np.zeros((2, 40, 40), np.float32))
    with pytest.raises(InvalidImageError, match="NaN"):
        predictor.predict(np.full((40, 40), np.nan, np.float32))


def test_network_that_changes_the_size_is_refused() -> None:
    network = nn.Conv2d(1, 1, 3)  # no padding: output 2 px smaller
    predictor = TiledPredictor(network, tile_px=32, overlap_px=10, device="cpu")
    with pytest.raises(InvalidParameterError, match="must map"):
        predictor.predict(np.zeros((40, 40), np.float32))
