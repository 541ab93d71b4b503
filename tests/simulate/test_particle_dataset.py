"""Labelled nanoparticle fields (bright-field and ADF): seeded samples, consistent labels, physics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from dosewise.config import ParticleDatasetConfig
from dosewise.errors import InvalidParameterError, OutputFileError
from dosewise.io import DatasetStore
from dosewise.simulate import (
    ParticleConfig,
    instance_boundary,
    particle_dataset,
    particle_sample_id,
    particle_thickness,
    render_particle_sample,
    simulate_particle_dataset,
)
from dosewise.simulate.particle_scenes import SHAPE_KINDS

SIZE = 48
SMALL = {"size_px": SIZE, "diameter_range_px": (6.0, 20.0)}
ARRAYS = {"clean": np.float32, "noisy": np.float32, "mask": np.uint8, "labels": np.int32, "boundary": np.uint8}


def _settings(**kwargs: object) -> ParticleConfig:
    return ParticleConfig.from_recipe(ParticleDatasetConfig(**{**SMALL, **kwargs}))


def _other_label_neighbour(labels: np.ndarray) -> np.ndarray:
    """Pixels of a particle with an 8-neighbour of another particle, by explicit shifts."""
    padded = np.pad(labels, 1)
    found = np.zeros(labels.shape, bool)
    h, w = labels.shape
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            other = padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
            found |= (other > 0) & (other != labels)
    return found & (labels > 0)


def test_a_sample_depends_only_on_seed_and_index() -> None:
    config = _settings(seed=3)
    first, again = render_particle_sample(config, 5), render_particle_sample(config, 5)
    assert first.metadata == again.metadata and first.metadata["index"] == 5
    for name, dtype in ARRAYS.items():
        assert first.arrays[name].dtype == dtype and first.arrays[name].shape == (SIZE, SIZE)
        np.testing.assert_array_equal(first.arrays[name], again.arrays[name])
    other = render_particle_sample(config, 6)
    assert not np.array_equal(first.arrays["clean"], other.arrays["clean"])
    assert not np.array_equal(first.arrays["noisy"], other.arrays["noisy"])


def test_labels_mask_and_boundary_agree_with_the_metadata() -> None:
    config = _settings(seed=1, max_particles=40, patch_fraction=0.5)
    touching = 0
    for index in range(10):
        sample = render_particle_sample(config, index)
        arrays, meta = sample.arrays, sample.metadata
        labels = arrays["labels"]
        np.testing.assert_array_equal(arrays["mask"], (labels > 0).astype(np.uint8))
        ids = np.unique(labels[labels > 0])
        assert len(ids) == meta["n_particles"] >= 1
        np.testing.assert_array_equal(ids, np.arange(1, meta["n_particles"] + 1))
        assert len(meta["particle_kinds"]) == len(meta["particle_diameters_px"]) == meta["n_particles"]
        assert meta["shape_kinds"] == sorted(set(meta["particle_kinds"])) and set(meta["shape_kinds"]) <= set(SHAPE_KINDS)
        assert all(6.0 <= d <= 20.0 for d in meta["particle_diameters_px"])
        assert meta["modality"] in ("bf", "adf") and 0.1 <= meta["pixel_size_nm"] <= 2.0
        assert 1.0 <= meta["dose_e_per_px"] <= 1e4
        # a boundary pixel is a particle pixel with a neighbour of another particle, and every such pixel is one
        np.testing.assert_array_equal(arrays["boundary"].astype(bool), _other_label_neighbour(labels))
        touching += int(arrays["boundary"].any())
        assert np.all(arrays["clean"] >= 0) and np.all(np.isfinite(arrays["noisy"]))
    assert touching >= 2  # aggregates occur


def test_instance_boundary_marks_both_sides_of_a_contact_only() -> None:
    labels = np.zeros((8, 10), np.int32)
    labels[2:6, 1:4], labels[2:6, 4:7] = 1, 2  # touching along a column
    labels[0:2, 8:10] = 3  # isolated
    boundary = instance_boundary(labels)
    expected = np.zeros_like(boundary)
    expected[2:6, 3:5] = 1
    np.testing.assert_array_equal(boundary, expected)


@pytest.mark.parametrize(("modality", "brighter"), [("bf", False), ("adf", True)])
def test_particles_are_dark_in_bright_field_and_bright_in_adf(modality: str, brighter: bool) -> None:
    """On average over the field, and against the support right around them (3-6 px out)."""
    config = _settings(seed=2, modality=modality)
    for index in range(6):
        sample = render_particle_sample(config, index)
        clean, mask = sample.arrays["clean"], sample.arrays["mask"].astype(bool)
        assert sample.metadata["modality"] == modality
        assert mask.any() and not mask.all()
        ring = ndimage.binary_dilation(mask, iterations=6) & ~ndimage.binary_dilation(mask, iterations=3)
        assert (clean[mask].mean() > clean[~mask].mean()) == brighter
        assert (clean[mask].mean() > clean[ring].mean()) == brighter


def test_noisy_is_poisson_counts_at_the_drawn_dose() -> None:
    """mean(noisy) = dose · clean + N0 (MTF(0) = 1 keeps the count); without MTF and readout
    noise the standardised residual has variance 1 (Poisson: variance = mean)."""
    dose = 1e4
    with_mtf = render_particle_sample(_settings(seed=4, dose_range_e_per_px=(dose, dose), mtf="mtf3"), 0)
    clean, noisy = with_mtf.arrays["clean"].astype(np.float64), with_mtf.arrays["noisy"].astype(np.float64)
    assert with_mtf.metadata["dose_e_per_px"] == pytest.approx(dose) and with_mtf.metadata["mtf_c0"] is not None
    n0 = with_mtf.metadata["n0_e_per_px"]
    expected = dose * clean.sum() + n0 * clean.size
    assert abs(noisy.sum() - expected) < 5 * math.sqrt(expected)

    counter = render_particle_sample(_settings(seed=4, dose_range_e_per_px=(dose, dose), mtf=None, n0_e_per_px=0.0), 0)
    clean, noisy = counter.arrays["clean"].astype(np.float64), counter.arrays["noisy"].astype(np.float64)
    np.testing.assert_array_equal(counter.arrays["labels"], with_mtf.arrays["labels"])  # labels ignore the noise
    rate = dose * clean
    bright = rate > 100
    z = (noisy[bright] - rate[bright]) / np.sqrt(rate[bright])
    assert abs(z.mean()) < 5 / math.sqrt(z.size) and abs(z.var() - 1.0) < 0.1


@pytest.mark.parametrize(("kind", "area", "peak", "mean_over_peak"), [
    ("sphere", math.pi, 2.0, 2.0 / 3.0),  # in units of R², R and the peak
    ("tetrahedron", 3 * math.sqrt(3) / 4, math.sqrt(2.0), 1.0 / 3.0),  # pyramid: a third of the height
    ("cube", 2.0, math.sqrt(2.0), 1.0),  # flat thickness = edge
])
def test_projected_thickness_profiles(kind: str, area: float, peak: float, mean_over_peak: float) -> None:
    radius = 30.0
    thickness = particle_thickness(kind, 2 * radius, 0.3, np.random.default_rng(0))
    foot = thickness > 0
    assert foot.sum() == pytest.approx(area * radius**2, rel=0.04)
    assert thickness.max() == pytest.approx(peak * radius, rel=0.04)
    assert thickness[foot].mean() / thickness.max() == pytest.approx(mean_over_peak, rel=0.05)


def test_prisms_are_flat_and_patches_are_thinner_particle() -> None:
    rng = np.random.default_rng(5)
    plain = particle_thickness("hexagon_prism", 40.0, 0.0, rng)
    assert len(np.unique(plain[plain > 0])) == 1
    patched = particle_thickness("triangle_prism", 40.0, 0.0, np.random.default_rng(6), patches=True)
    levels = np.unique(patched[patched > 0])
    assert len(levels) >= 2 and levels.min() > 0  # the patch is lighter, and still particle


def test_dataset_resumes_to_the_same_samples_and_guards_its_settings(tmp_path: Path) -> None:
    whole, parts = tmp_path / "whole.zarr", tmp_path / "parts.zarr"
    config = ParticleDatasetConfig(n_images=4, seed=7, **SMALL)
    report = simulate_particle_dataset(whole, config, progress=False)
    assert report.samples_written == 4
    store = DatasetStore.open(whole)
    assert store.ids() == [particle_sample_id(i) for i in range(4)]
    assert store.attrs["kind"] == "particles" and store.attrs["simulation"]["seed"] == 7
    sample = store.sample(particle_sample_id(0))
    assert {name: sample.array(name).dtype for name in sample.names} == ARRAYS

    simulate_particle_dataset(parts, config.model_copy(update={"n_images": 2}), progress=False)
    resumed = simulate_particle_dataset(parts, config, progress=False)
    assert resumed.structures_skipped == [0, 1] and resumed.samples_written == 2
    a, b = DatasetStore.open(whole), DatasetStore.open(parts)
    for key in a.ids():
        assert a.sample(key).metadata == b.sample(key).metadata
        for name in ARRAYS:
            np.testing.assert_array_equal(a.sample(key).array(name), b.sample(key).array(name))
    with pytest.raises(OutputFileError, match="different settings"):
        simulate_particle_dataset(parts, config.model_copy(update={"seed": 8}), progress=False)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_images": 0}, "n_images must be an integer >= 1"),
    ({"dose_range_e_per_px": (0.0, 10.0)}, "dose range"),
    ({"size_px": 8}, "size_px must be >= 16"),
    ({"diameter_range_px": (1.0, 10.0)}, "diameter range"),
    ({"modality": "sem"}, "modality"),
    ({"workers": 0}, "workers must be an integer >= 1"),
])
def test_bad_parameters_raise_one_line_and_write_nothing(tmp_path: Path, kwargs: dict, message: str) -> None:
    out = tmp_path / "bad.zarr"
    arguments = {"n_images": 2, "size_px": SIZE, **kwargs}
    workers = arguments.pop("workers", 1)
    with pytest.raises(InvalidParameterError, match=message) as info:
        simulate_particle_dataset(out, ParticleDatasetConfig.validate_dict(arguments), workers=workers,
                                  progress=False)
    assert "\n" not in str(info.value)
    assert not out.exists()


def test_parallel_workers_write_the_same_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(particle_dataset, "CHUNK", 1)
    serial, parallel = tmp_path / "serial.zarr", tmp_path / "parallel.zarr"
    config = ParticleDatasetConfig(n_images=2, seed=1, **SMALL)
    simulate_particle_dataset(serial, config, progress=False)
    simulate_particle_dataset(parallel, config, progress=False, workers=2)
    a, b = DatasetStore.open(serial), DatasetStore.open(parallel)
    assert a.ids() == b.ids()
    for key in a.ids():
        assert a.sample(key).metadata == b.sample(key).metadata
        np.testing.assert_array_equal(a.sample(key).array("noisy"), b.sample(key).array("noisy"))
