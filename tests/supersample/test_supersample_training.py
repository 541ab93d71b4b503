"""Partial-scan pairs, a short training run, and the Supersampler on its checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dosewise.data.partial_scans import PartialScanDataset, scale_to_unit
from dosewise.data.unlabeled import find_sources
from dosewise.errors import InputFileError, InvalidImageError, InvalidParameterError
from dosewise.infer.supersample import Supersampler
from dosewise.checkpoint import load_supersampler
from dosewise.physics.partial_scan import blur_target, partial_scan
from dosewise.training.supersample import train_supersampler
from tests.helpers.configs import tiny_supersample_config
from tests.helpers.supersample import lattice_scan


def test_pairs_have_the_drawn_coverage_and_a_blurred_target(scan_folder: Path) -> None:
    dataset = PartialScanDataset(find_sources([scan_folder]), crop_px=40, steps=[4, 5], train=True, seed=3)
    for index in range(6):
        x, target, step = dataset[(0, index)]
        s = int(step)
        assert x.shape == (2, 40, 40) and target.shape == (1, 40, 40)
        mask = x[1].numpy()
        assert mask.sum() == len(range(int(np.flatnonzero(mask.any(1))[0]), 40, s)) * len(
            range(int(np.flatnonzero(mask.any(0))[0]), 40, s))
        assert np.all(x[0].numpy()[mask == 0] == 0)
        scan = x[0].numpy()[mask > 0]
        assert 0 <= scan.min() and scan.max() <= 1
    again = dataset[(0, 5)]
    assert torch.equal(again[0], x) and torch.equal(again[1], target)  # seeded by (epoch, index)
    full = scale_to_unit(np.asarray([[0, 1], [2, 4]]))
    np.testing.assert_allclose(full, [[0, 0.25], [0.5, 1]])
    np.testing.assert_allclose(blur_target(np.ones((9, 9))), 1.0)


def test_validation_items_cycle_through_the_steps_at_offset_zero(scan_folder: Path) -> None:
    dataset = PartialScanDataset(find_sources([scan_folder]), crop_px=40, steps=[4, 5, 6], train=False)
    assert [int(dataset[i][2]) for i in range(4)] == [4, 5, 6, 4]
    assert dataset[1][0][1, 0, 0] == 1  # the first probe sits at (0, 0)


def test_training_beats_the_untrained_interpolation(scan_folder: Path, tmp_path: Path,
                                                   trained_supersampler: Path) -> None:
    untrained = train_supersampler(
        tiny_supersample_config(scan_folder, tmp_path / "zero", epochs=1, optimiser={"lr": 1e-12}), progress=False)
    trained = load_supersampler(trained_supersampler)
    before, after = untrained.metrics["val/mse"], trained.metadata["metrics"]["val/mse"]
    assert after < 0.8 * before


def test_supersampler_keeps_measured_pixels_on_odd_sizes(trained_supersampler: Path) -> None:
    image = lattice_scan(np.random.default_rng(9), size=200)[:133, :171]
    scan = partial_scan(image, 5, (2, 1))
    supersampler = Supersampler(trained_supersampler, tile_px=64, overlap_px=16, device="cpu")
    output = supersampler(scan.filled, scan.mask)
    assert output.shape == (133, 171)
    np.testing.assert_array_equal(output[scan.mask], image[scan.mask])
    small = supersampler.from_samples(scan.samples, 5, (2, 1), (133, 171))
    np.testing.assert_allclose(small, output, atol=1e-5)


def test_supersampler_beats_bilinear_on_held_out_scans(trained_supersampler: Path) -> None:
    from dosewise.analysis.interpolation import interpolate_partial

    supersampler = Supersampler(trained_supersampler, tile_px=96, overlap_px=32, device="cpu")
    rng = np.random.default_rng(123)
    errors = {"network": [], "bilinear": []}
    for _ in range(6):
        image = scale_to_unit(lattice_scan(rng))
        target = blur_target(image)
        scan = partial_scan(image, 4)
        errors["network"].append(np.mean((supersampler(scan.filled, scan.mask) - target) ** 2))
        bilinear = interpolate_partial(scan.samples, 4, image.shape, (0, 0), "bilinear")
        errors["bilinear"].append(np.mean((bilinear - target) ** 2))
    assert np.mean(errors["network"]) < np.mean(errors["bilinear"])


def test_bad_inputs_are_one_line_errors(trained_supersampler: Path, tmp_path: Path) -> None:
    supersampler = Supersampler(trained_supersampler, device="cpu")
    with pytest.raises(InvalidImageError, match="mask shape"):
        supersampler(np.zeros((10, 10)), np.ones((10, 11)))
    with pytest.raises(InvalidImageError, match="fewer than 4"):
        supersampler(np.zeros((10, 10)), np.zeros((10, 10)))
    bad = np.zeros((10, 10), np.float32)
    bad[0, 0] = np.nan
    with pytest.raises(InvalidImageError, match="NaN"):
        supersampler(bad, np.ones((10, 10)))
    not_a_checkpoint = tmp_path / "x.ckpt"
    not_a_checkpoint.write_bytes(b"junk")
    with pytest.raises(InputFileError, match="cannot read checkpoint"):
        load_supersampler(not_a_checkpoint)


def test_one_stage_refuses_a_scan_of_another_step(scan_folder: Path, tmp_path: Path) -> None:
    config = tiny_supersample_config(scan_folder, tmp_path, epochs=1, model={"name": "dlss-one-stage", "options": {"step": 4, "width": 16, "blocks": 2}},
                                     data={"steps": [4]})
    result = train_supersampler(config, progress=False)
    supersampler = Supersampler(result.last_checkpoint, device="cpu")
    image = lattice_scan(np.random.default_rng(0), size=64)
    scan = partial_scan(image, 4)
    np.testing.assert_array_equal(supersampler(scan.filled, scan.mask)[scan.mask], image[scan.mask])
    with pytest.raises(InvalidParameterError, match="step 4"):
        supersampler(*(lambda s: (s.filled, s.mask))(partial_scan(image, 5)))


def test_folder_repeats_draw_each_real_scan_as_several_crops(scan_folder: Path, tmp_path: Path) -> None:
    from dosewise.training.supersample import PartialScanDataModule

    once = PartialScanDataModule(tiny_supersample_config(scan_folder, tmp_path, epochs=1))
    thrice = PartialScanDataModule(tiny_supersample_config(scan_folder, tmp_path, epochs=1,
                                                           data={"folder_repeats": 3}))
    assert len(thrice.train_set) == 3 * len(once.train_set)
    assert len(thrice.val_set) == len(once.val_set)  # validation scans are not repeated
    first, second = thrice.train_set[(0, 0)], thrice.train_set[(0, 1)]  # one scan, two draws
    assert not torch.equal(first[1], second[1])


def test_a_resumed_run_takes_the_configured_learning_rate(scan_folder: Path, tmp_path: Path) -> None:
    """A campaign lowers the learning rate between chunks: the resumed optimiser must not keep
    the old one (at lr 1e-12 the weights of epoch 2 are those of epoch 1)."""
    first = train_supersampler(tiny_supersample_config(scan_folder, tmp_path, epochs=1), progress=False)
    before = torch.load(first.last_checkpoint, map_location="cpu", weights_only=False)
    second = train_supersampler(tiny_supersample_config(scan_folder, tmp_path, epochs=2, optimiser={"lr": 1e-12}),
                                progress=False)
    after = torch.load(second.last_checkpoint, map_location="cpu", weights_only=False)
    assert after["epoch"] == before["epoch"] + 1
    assert after["optimizer_states"][0]["param_groups"][0]["lr"] == 1e-12
    changed = [name for name, tensor in before["state_dict"].items()
               if not torch.allclose(after["state_dict"][name], tensor, rtol=0, atol=1e-8)]
    assert changed and all(name.startswith("alrc") for name in changed), changed  # loss statistics only
