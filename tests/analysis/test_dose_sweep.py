"""Dose sweeps: known answers on synthetic series whose true masks are known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dosewise.analysis.dose_series import load_dose_series, parse_doses
from dosewise.analysis.dose_sweep import crossing_dose, dose_sweep
from dosewise.errors import DosewiseError
from dosewise.io import DatasetStore

DOSES = np.geomspace(10.0, 1e4, 31)  # 10 frames per decade: 10^(1 + k/10)


def true_mask() -> np.ndarray:
    mask = np.zeros((64, 64), bool)
    mask[12:52, 7:57] = True  # 2000 px
    return mask


def partial(mask: np.ndarray, fraction: float) -> np.ndarray:
    """The first ``fraction`` of the mask's pixels in raster order."""
    flat = mask.ravel().copy()
    on = np.flatnonzero(flat)
    flat[on[int(round(fraction * on.size)):]] = False
    return flat.reshape(mask.shape)


def planted(doses: np.ndarray) -> np.ndarray:
    """Area fraction rising linearly in log dose: 0 at 10, 0.5 at 100, 1 from 1000 e-/Å²."""
    return np.clip(np.log10(doses / 10.0) / 2.0, 0.0, 1.0)


def test_perfect_predictor_scores_f1_one_at_every_dose() -> None:
    truth = [true_mask()] * len(DOSES)
    sweep = dose_sweep(DOSES, truth, truth)
    assert all(f.f1 == 1.0 and f.iou == 1.0 and f.area_fraction == 1.0 for f in sweep.frames)
    assert sweep.convergence_dose_e_per_A2 == pytest.approx(DOSES[0])
    assert sweep.summary()["mean_f1"] == 1.0


def test_fifty_percent_dose_is_found_where_it_was_planted() -> None:
    mask = true_mask()
    masks = [partial(mask, a) for a in planted(DOSES)]
    sweep = dose_sweep(DOSES, masks, [mask] * len(DOSES))
    assert sweep.dose_50_e_per_A2 == pytest.approx(100.0, rel=0.02)
    # within 10 % of the converged area once the planted fraction is >= 0.9: 10^2.8 e-/Å²
    assert sweep.convergence_dose_e_per_A2 == pytest.approx(10**2.8, rel=1e-6)
    f1 = np.array([f.f1 for f in sweep.frames])
    assert np.all(np.diff(f1) >= -1e-12) and f1[-1] == 1.0
    # F1 of a subset of the truth with fraction a is 2a / (1 + a)
    a = planted(DOSES)
    assert f1 == pytest.approx(2 * a / (1 + a), abs=1e-3)


def test_convergence_and_fifty_percent_doses_survive_one_outlier_frame() -> None:
    mask = true_mask()
    fractions = planted(DOSES)
    late, early = int(np.argmin(np.abs(DOSES - 3000))), int(np.argmin(np.abs(DOSES - 20)))
    fractions[late] = 0.3  # a badly segmented high-dose frame
    fractions[early] = 1.0  # a low-dose frame that happens to light up
    masks = [partial(mask, a) for a in fractions]
    sweep = dose_sweep(DOSES, masks, [mask] * len(DOSES))
    assert sweep.convergence_dose_e_per_A2 == pytest.approx(10**2.8, rel=1e-6)
    assert sweep.dose_50_e_per_A2 == pytest.approx(100.0, rel=0.02)


def test_frame_order_does_not_matter_and_real_series_use_the_last_frame() -> None:
    mask = true_mask()
    masks = [partial(mask, a) for a in planted(DOSES)]
    order = np.random.default_rng(0).permutation(len(DOSES))
    sweep = dose_sweep(DOSES[order], [masks[i] for i in order])
    assert sweep.target_source == "last frame" and not sweep.has_truth
    assert sweep.target_area_px == mask.sum()
    assert sweep.dose_50_e_per_A2 == pytest.approx(100.0, rel=0.02)
    assert np.all(np.diff(sweep.doses_e_per_A2) > 0)


def test_never_reaching_half_gives_none() -> None:
    assert crossing_dose(DOSES, np.full(DOSES.size, 0.2), 0.5) is None
    assert crossing_dose(np.array([1.0, 100.0]), np.array([0.0, 1.0]), 0.5) == pytest.approx(10.0)


def test_bad_series_are_refused_with_a_clear_message() -> None:
    mask = true_mask()
    with pytest.raises(DosewiseError, match="3 doses for 2 frames"):
        dose_sweep([1, 2, 3], [mask, mask])
    with pytest.raises(DosewiseError, match="> 0"):
        dose_sweep([0, 2], [mask, mask])


def test_series_loads_from_a_store_a_stack_and_a_folder(tmp_path: Path) -> None:
    import tifffile

    mask = true_mask()
    store = DatasetStore.create(tmp_path / "series.zarr")
    for f, dose in enumerate(DOSES[:4]):
        store.write_sample(f"f{f:04d}", {"noisy": np.full(mask.shape, dose, np.float32), "mask": mask.astype(np.uint8)},
                           {"dose_e_per_A2": float(dose), "pixel_size_A": 0.1})
    series = load_dose_series(store.path)
    assert len(series) == 4 and series.true_masks is not None
    assert series.doses_e_per_A2 == pytest.approx(DOSES[:4])

    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, np.stack([np.full((16, 16), i, np.float32) for i in range(3)]), photometric="minisblack")
    with pytest.raises(DosewiseError, match="dose of 3 of 3 frames is unknown"):
        load_dose_series(stack)
    with pytest.raises(DosewiseError, match="2 doses given for 3 frames"):
        load_dose_series(stack, doses=[1, 2])
    assert load_dose_series(stack, doses=[1, 2, 3]).doses_e_per_A2 == pytest.approx([1, 2, 3])
    assert load_dose_series(stack, doses=[1, 2, 3], dose_unit="e/px", pixel_size_A=0.5).doses_e_per_A2 == \
        pytest.approx([4, 8, 12])

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        tifffile.imwrite(folder / f"frame_{i:02d}.tif", np.full((16, 16), i, np.float32))
    doses_file = tmp_path / "doses.csv"
    doses_file.write_text("dose_e_per_A2\n10\n20\n40\n", encoding="utf-8")
    series = load_dose_series(folder, doses=parse_doses(str(doses_file)))
    assert series.names == ["frame_00.tif", "frame_01.tif", "frame_02.tif"]
    assert series.doses_e_per_A2 == pytest.approx([10, 20, 40])
