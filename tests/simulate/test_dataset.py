from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import dosewise.simulate.dataset as dataset
from dosewise.config import DoseSeriesConfig, HrtemDatasetConfig, MicroscopeParams, MicroscopeRanges
from dosewise.errors import InvalidParameterError, OutputFileError
from dosewise.io.store import DatasetStore
from dosewise.simulate.dataset import sample_id, simulate_dose_series, simulate_hrtem_dataset
from dosewise.simulate.hrtem import lens_margin_A
from tests.helpers.simulate import FAST, SIZE_PX
from tests.helpers.stores import store_contents

STRUCTURE_KEYS = {"diameter_A", "truncation_layer", "truncation_offset_A", "tilt_deg",
                  "tilt_azimuth_deg", "rotation_deg", "n_au_atoms", "n_support_atoms"}
OPTICS_KEYS = {"energy_eV", "defocus_A", "cs_um", "focal_spread_A", "blur_A"}
METADATA_KEYS = STRUCTURE_KEYS | OPTICS_KEYS | {
    "dose_e_per_A2", "dose_e_per_px", "pixel_size_A", "size_px", "margin_px", "margin_A",
    "exit_wave_sampling_A", "detector",
    "mtf_c0", "mtf_c3", "mtf_C", "n0_e_per_px", "hull_area_px", "mask_area_px", "seed",
    "structure_index", "frozen_phonons",
}


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key][0] == b[key][0]
        for name in a[key][1]:
            np.testing.assert_array_equal(a[key][1][name], b[key][1][name])


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "ds.zarr"
    simulate_hrtem_dataset(out, HrtemDatasetConfig(n_structures=2, variants_per_structure=3, seed=11, mtf="mtf4",
                                                   **FAST), progress=False)
    return out


def test_dataset_has_every_sample_with_arrays_and_complete_metadata(small_dataset: Path) -> None:
    store = DatasetStore.open(small_dataset)
    assert store.ids() == [sample_id(s, v) for s in range(2) for v in range(3)]
    assert store.attrs["kind"] == "hrtem"
    for i in store.ids():
        sample = store.sample(i)
        assert METADATA_KEYS | {"variant_index"} <= set(sample.metadata)
        md = sample.metadata
        assert md["dose_e_per_px"] == pytest.approx(md["dose_e_per_A2"] * md["pixel_size_A"] ** 2)
        assert 1e2 <= md["dose_e_per_A2"] <= 1e6 and md["detector"] == "mtf4"
        assert 0.25 <= md["mtf_c0"] <= 0.6 and 0.005 <= md["n0_e_per_px"] <= 0.015
        clean, noisy, mask = sample.array("clean"), sample.array("noisy"), sample.array("mask")
        assert clean.shape == noisy.shape == mask.shape == (SIZE_PX, SIZE_PX)
        # Simulated with the automatic margin (the lens delocalisation at the 0.2 Å grid), cropped.
        assert md["margin_px"] == math.ceil(lens_margin_A(MicroscopeRanges(), 0.2) / 0.4) == 39
        assert md["margin_A"] == pytest.approx(md["margin_px"] * md["pixel_size_A"])
        assert clean.dtype == noisy.dtype == np.float32 and mask.dtype == np.uint8
        assert mask.sum() == md["mask_area_px"] == pytest.approx(md["hull_area_px"], rel=0.02)
        # Counts scale with the dose: mean noisy / dose ≈ mean clean (+ readout).
        expected = clean.mean() * md["dose_e_per_px"] + md["n0_e_per_px"]
        assert noisy.mean() == pytest.approx(expected, rel=0.05)


def test_variants_share_the_structure_and_differ_in_optics_and_dose(small_dataset: Path) -> None:
    store = DatasetStore.open(small_dataset)
    for s in range(2):
        meta = [store.sample(sample_id(s, v)).metadata for v in range(3)]
        for key in STRUCTURE_KEYS | {"pixel_size_A"}:
            assert len({m[key] for m in meta}) == 1, key
        for key in ("defocus_A", "cs_um", "focal_spread_A", "blur_A", "dose_e_per_A2", "mtf_c0"):
            assert len({m[key] for m in meta}) == 3, key
        masks = [store.sample(sample_id(s, v)).array("mask") for v in range(3)]
        assert all(np.array_equal(masks[0], m) for m in masks[1:])
        cleans = [store.sample(sample_id(s, v)).array("clean") for v in range(3)]
        assert not np.allclose(cleans[0], cleans[1])
    first = store.sample(sample_id(0, 0)).metadata
    second = store.sample(sample_id(1, 0)).metadata
    assert first["diameter_A"] != second["diameter_A"]


def test_same_seed_gives_identical_samples_in_parallel(small_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "again.zarr"
    simulate_hrtem_dataset(out, HrtemDatasetConfig(n_structures=2, variants_per_structure=3, seed=11, mtf="mtf4",
                                                   **FAST), workers=2, progress=False)
    _assert_same(store_contents(small_dataset), store_contents(out))


def test_interrupted_run_resumes_and_recomputes_only_what_is_missing(
    small_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "resumed.zarr"
    real_render = dataset.render_sample
    calls = {"n": 0}

    def crash_in_structure_1(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:  # structure 1, variant 1: the first two samples of it are written
            raise KeyboardInterrupt
        return real_render(*args, **kwargs)

    monkeypatch.setattr(dataset, "render_sample", crash_in_structure_1)
    config = HrtemDatasetConfig(n_structures=2, variants_per_structure=3, seed=11, mtf="mtf4", **FAST)
    with pytest.raises(KeyboardInterrupt):
        simulate_hrtem_dataset(out, config, progress=False)
    assert DatasetStore.open(out).ids() == [sample_id(0, v) for v in range(3)] + [sample_id(1, 0)]

    monkeypatch.setattr(dataset, "render_sample", real_render)
    computed: list[int] = []
    real_structure = dataset.simulate_structure
    monkeypatch.setattr(dataset, "simulate_structure",
                        lambda config, s: computed.append(s) or real_structure(config, s))
    report = simulate_hrtem_dataset(out, config, progress=False)
    assert computed == [1] and report.structures_skipped == [0] and report.samples_written == 2
    _assert_same(store_contents(small_dataset), store_contents(out))


def test_resume_with_other_settings_is_refused(small_dataset: Path) -> None:
    with pytest.raises(OutputFileError, match="different settings"):
        simulate_hrtem_dataset(small_dataset, HrtemDatasetConfig(n_structures=2, variants_per_structure=3, seed=12,
                                                                 mtf="mtf4", **FAST), progress=False)


def test_dose_series_has_rising_doses_fixed_structure_and_optics(tmp_path: Path) -> None:
    out = tmp_path / "series.zarr"
    config = DoseSeriesConfig(dose_range_e_per_A2=(10.0, 1e4), n_frames=4, seed=3, mtf="mtf3", **FAST)
    simulate_dose_series(out, config, progress=False)
    store = DatasetStore.open(out)
    assert store.ids() == ["f0000", "f0001", "f0002", "f0003"]
    meta = [store.sample(i).metadata for i in store.ids()]
    doses = [m["dose_e_per_A2"] for m in meta]
    np.testing.assert_allclose(doses, [10.0, 100.0, 1000.0, 1e4])
    for key in STRUCTURE_KEYS | OPTICS_KEYS | {"pixel_size_A", "mtf_c0", "mtf_c3", "n0_e_per_px"}:
        assert len({m[key] for m in meta}) == 1, key
    cleans = [store.sample(i).array("clean") for i in store.ids()]
    assert all(np.array_equal(cleans[0], c) for c in cleans[1:])
    # Relative noise falls as the dose rises.
    errors = [np.std(store.sample(i).array("noisy") / m["dose_e_per_px"] - cleans[0])
              for i, m in zip(store.ids(), meta)]
    assert all(a > b for a, b in zip(errors, errors[1:]))
    report = simulate_dose_series(out, config, progress=False)
    assert report.samples_written == 0
    # The default margin covers these fixed optics (not the whole Table 1 range).
    optics = store.attrs["simulation"]["optics"]
    margin = lens_margin_A(MicroscopeParams(**optics), 0.2)
    assert {m["margin_px"] for m in meta} == {math.ceil(margin / 0.4 - 1e-9)}


def test_explicit_margin_is_used_and_a_bad_one_rejected(tmp_path: Path) -> None:
    out = tmp_path / "framed.zarr"
    simulate_dose_series(out, DoseSeriesConfig(doses_e_per_A2=[100.0], seed=3, margin_A=3.9, mtf="mtf4", **FAST),
                         progress=False)
    store = DatasetStore.open(out)
    md = store.sample("f0000").metadata
    assert md["margin_px"] == 10 and md["margin_A"] == pytest.approx(4.0)
    assert store.attrs["simulation"]["margin_A"] == 3.9
    with pytest.raises(InvalidParameterError, match="margin_A"):
        simulate_dose_series(tmp_path / "bad.zarr",
                             DoseSeriesConfig.validate_dict({"doses_e_per_A2": [100.0], "margin_A": -1.0, **FAST}),
                             progress=False)


def test_structure_cache_reuses_exit_waves_across_dose_ranges_and_detectors(
    small_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "exit_waves"
    computed: list[int] = []
    real_structure = dataset.simulate_structure
    monkeypatch.setattr(dataset, "simulate_structure",
                        lambda config, s: computed.append(s) or real_structure(config, s))
    simulate_hrtem_dataset(tmp_path / "a.zarr",
                           HrtemDatasetConfig(n_structures=2, variants_per_structure=3, seed=11, mtf="mtf4", **FAST),
                           structure_cache=cache, progress=False)
    assert computed == [0, 1] and len(list(cache.glob("*.pkl"))) == 2
    _assert_same(store_contents(small_dataset), store_contents(tmp_path / "a.zarr"))  # the cache changes nothing
    simulate_hrtem_dataset(tmp_path / "b.zarr",
                           HrtemDatasetConfig(n_structures=2, variants_per_structure=3, seed=11, mtf="mtf1",
                                              dose_range_e_per_A2=(10.0, 1e4), **FAST),
                           structure_cache=cache, progress=False)
    assert computed == [0, 1]  # other detector and dose range: same structures, no new multislice
    b = store_contents(tmp_path / "b.zarr")
    a = store_contents(small_dataset)
    for key in a:
        assert b[key][0]["diameter_A"] == a[key][0]["diameter_A"]
        np.testing.assert_array_equal(b[key][1]["mask"], a[key][1]["mask"])
        assert b[key][0]["dose_e_per_A2"] < 1e4
    simulate_hrtem_dataset(tmp_path / "c.zarr",
                           HrtemDatasetConfig(n_structures=1, variants_per_structure=1, seed=12, mtf="mtf4", **FAST),
                           structure_cache=cache, progress=False)
    assert computed == [0, 1, 0]  # another seed is another structure
