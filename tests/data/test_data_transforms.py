"""Augmentation is seeded and identical on input and target; normalisation and sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dosewise.data import (
    EpochSampler,
    ExtraNoise,
    Normalisation,
    RandomCrop,
    RandomFlipRotate,
    build_transform,
)
from dosewise.errors import InvalidParameterError


def _pair(h: int = 20, w: int = 24) -> tuple[np.ndarray, np.ndarray]:
    image = np.arange(h * w, dtype=np.float32).reshape(1, h, w)
    return image, image * 2


def test_same_seed_same_result_and_target_follows_input() -> None:
    transform = build_transform(crop_px=12, flips=True, rotations=True)
    image, target = _pair()
    outs = [transform(image, target, np.random.default_rng(5)) for _ in range(2)]
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    for out_image, out_target in outs:
        assert out_image.shape == (1, 12, 12)
        np.testing.assert_array_equal(out_target, out_image * 2)
    others = {transform(image, target, np.random.default_rng(s))[0].tobytes() for s in range(20)}
    assert len(others) > 5


def test_flip_rotate_covers_the_eight_symmetries() -> None:
    image, target = _pair(6, 6)
    flip_rotate = RandomFlipRotate()
    results = {flip_rotate(image, target, np.random.default_rng(s))[0].tobytes() for s in range(200)}
    assert len(results) == 8


def test_crop_pads_small_images_by_reflection() -> None:
    image, target = _pair(5, 7)
    out_image, out_target = RandomCrop(9)(image, target, np.random.default_rng(0))
    assert out_image.shape == out_target.shape == (1, 9, 9)
    np.testing.assert_array_equal(out_target, out_image * 2)
    assert set(np.unique(out_image)) <= set(np.unique(image))


def test_extra_noise_is_poisson_at_the_drawn_dose() -> None:
    clean = np.ones((1, 200, 200), np.float32)
    noisy, target = ExtraNoise((50.0, 50.0))(clean, clean, np.random.default_rng(1))
    assert target is clean
    counts = noisy * 50  # the input stays in the clean image's units
    assert counts.mean() == pytest.approx(50, rel=0.01)
    assert counts.var() == pytest.approx(50, rel=0.05)
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-3)
    with pytest.raises(InvalidParameterError, match="dose range"):
        ExtraNoise((0.0, 5.0))


@pytest.mark.parametrize("kind", ["zscore", "fixed", "minmax"])
def test_normalisation_numpy_and_torch_agree(kind: str) -> None:
    norm = Normalisation(kind=kind, mean=3.0, std=2.0)
    image = np.random.default_rng(0).poisson(10, size=(2, 16, 16)).astype(np.float32)
    out = norm.apply(image)
    assert out.dtype == np.float32
    np.testing.assert_allclose(norm.apply_torch(torch.from_numpy(image)).numpy(), out, atol=1e-5)
    if kind == "zscore":
        np.testing.assert_allclose(out.mean(axis=(1, 2)), 0, atol=1e-5)
        np.testing.assert_allclose(out.std(axis=(1, 2)), 1, atol=1e-4)
    if kind == "minmax":
        assert out.min() == 0 and out.max() == pytest.approx(1)


def test_constant_image_does_not_divide_by_zero() -> None:
    out = Normalisation().apply(np.full((8, 8), 4.0))
    np.testing.assert_array_equal(out, 0)


def test_epoch_sampler_depends_on_seed_and_epoch_only() -> None:
    sampler = EpochSampler(10, seed=3)
    first = list(sampler)
    assert sorted(i for _, i in first) == list(range(10)) and {e for e, _ in first} == {0}
    sampler.set_epoch(4)
    assert list(sampler) == list(EpochSampler(10, seed=3, epoch=4))
    assert [i for _, i in sampler] != [i for _, i in first]
    assert [i for _, i in EpochSampler(5, shuffle=False)] == list(range(5))


def test_restoration_target_in_input_units_uses_the_inputs_affine(tmp_path) -> None:
    from dosewise.data.datasets import StoreRestorationDataset
    from dosewise.io import DatasetStore

    rng = np.random.default_rng(0)
    clean = rng.uniform(50, 150, size=(16, 16)).astype(np.float32)
    noisy = rng.poisson(clean).astype(np.float32)
    store = DatasetStore.create(tmp_path / "s.zarr")
    store.write_sample("a", {"noisy": noisy, "clean": clean}, {})
    item = StoreRestorationDataset(store.path, target_scale="input")[0]
    stored = StoreRestorationDataset(store.path)[0]
    expected = (clean - noisy.mean()) / noisy.std()
    np.testing.assert_allclose(item[1][0].numpy(), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(stored[1][0].numpy(), clean)
    np.testing.assert_allclose(item[0].numpy(), stored[0].numpy())


@pytest.mark.parametrize("kind", ["zscore", "minmax"])
def test_a_few_huge_spikes_do_not_set_the_scale_and_ordinary_frames_keep_their_statistics(kind: str) -> None:
    norm = Normalisation(kind=kind)
    frame = np.random.default_rng(1).poisson(3.0, size=(64, 64)).astype(np.float64)
    plain = norm.apply(frame)
    if kind == "zscore":  # an ordinary frame: exactly the textbook statistics
        np.testing.assert_allclose(plain, (frame - frame.mean()) / frame.std(), atol=1e-5)
    spiky = frame.copy()
    spiky[3, 3], spiky[40, 9], spiky[9, 40] = 1e30, 3e30, -1e30
    out = norm.apply(spiky.astype(np.float32))
    assert np.isfinite(out).all() and np.abs(out).max() <= 1e3
    untouched = np.ones(frame.shape, bool)
    untouched[[3, 40, 9], [3, 9, 40]] = False
    if kind == "zscore":  # the scale within a few per cent of the spike-free frame's (was 1e26 times off)
        np.testing.assert_allclose(out[untouched], plain[untouched], rtol=0.05, atol=0.05)
    else:  # the frame's values still spread over a usable part of the range, in order
        assert np.ptp(out[untouched]) > 0.3 and np.corrcoef(out[untouched], plain[untouched])[0, 1] > 0.999
    np.testing.assert_allclose(norm.apply_torch(torch.from_numpy(spiky)).numpy(), out, atol=1e-4)
