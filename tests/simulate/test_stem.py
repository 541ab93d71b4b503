"""ADF-STEM simulator: crystal projections, probe, labels, noise statistics, store writing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.fft import next_fast_len
from scipy.ndimage import maximum_filter

import dosewise.simulate.stem_dataset as stem_dataset
from dosewise.config import StemDatasetConfig
from dosewise.errors import InvalidParameterError, OutputFileError
from dosewise.io.store import DatasetStore
from dosewise.simulate import (
    Probe,
    StemConfig,
    StemRanges,
    parse_materials,
    projected_crystal,
    render_stem_sample,
    simulate_stem_dataset,
    stem_sample,
    stem_sample_id,
)
from dosewise.simulate.hrtem import electron_wavelength_A
from dosewise.simulate.stem import crystal_margin_px, oversampling_factor, probe_otf
from dosewise.simulate.stem_crystals import MATERIALS, all_zones, place_columns
from tests.helpers.stores import store_contents

SIZE = 64
LABELS = ("noisy", "noise_free", "clean", "superres")
# Zone axes whose columns are >= 1.8 Å apart, so every probe drawn resolves them.
OPEN_ZONES = "Au[100],Au[110],Pt[100],W[100],W[111],Fe[111],SrTiO3[100],MoS2,Si[100],GaAs[100]"


def _sample(i: int, materials: str | None = None, **ranges: object):
    return stem_sample(StemRanges(**ranges), parse_materials(materials), size_px=SIZE,
                       scene_rng=np.random.default_rng([i, 0]), noise_rng=np.random.default_rng([i, 1]))


# --- crystals -----------------------------------------------------------------------------


@pytest.mark.parametrize(("material", "zone", "nearest_A"), [
    ("Au", (1, 0, 0), 4.078 / 2),                 # square grid of a/2
    ("Au", (1, 1, 1), 4.078 / math.sqrt(6)),      # hexagonal projected fcc
    ("Si", (1, 1, 0), 5.431 / 4),                 # the <110> dumbbell
    ("Fe", (1, 1, 1), 2.867 * math.sqrt(2 / 3)),
    ("SrTiO3", (1, 0, 0), 3.905 / 2),
    ("MoS2", (0, 0, 1), 3.184 / math.sqrt(3)),    # Mo to S2 column
])
def test_projected_column_spacing(material: str, zone: tuple[int, int, int], nearest_A: float) -> None:
    placed = place_columns(projected_crystal(material, zone), rotation_rad=0.7, offset_frac=(0.3, 0.6),
                           low_A=0.0, high_A=20.0)
    xy = np.stack([placed.x_A, placed.y_A], axis=1)
    distances = np.linalg.norm(xy[:, None] - xy[None], axis=-1) + np.eye(len(xy)) * 1e9
    assert distances.min() == pytest.approx(nearest_A, abs=2e-3)


def test_every_zone_keeps_the_bulk_density() -> None:
    """Atoms per column per repeat, over the 2-D cell area x repeat, is the bulk density."""
    zones = all_zones()
    assert len({m for m, _ in zones}) >= 6 and len(zones) >= 15
    for material, zone in zones:
        projected = projected_crystal(material, zone)
        if projected.period_A == 0:  # 2-D sheet
            continue
        bulk = MATERIALS[material][0]()
        density = projected.counts.sum() / (abs(np.linalg.det(projected.cell_A)) * projected.period_A)
        assert density == pytest.approx(len(bulk) / bulk.get_volume(), rel=1e-6), (material, zone)


def test_column_weights_are_sums_of_z_power() -> None:
    projected = projected_crystal("SrTiO3", (1, 0, 0))
    weights = sorted(projected.weights(1.7))
    assert weights == pytest.approx(sorted([38**1.7, 22**1.7 + 8**1.7, 8**1.7, 8**1.7]))


def test_parse_materials_and_errors() -> None:
    assert parse_materials("Au[110], MoS2") == [("Au", (1, 1, 0)), ("MoS2", (0, 0, 1))]
    assert len(parse_materials(["Au"])) == 3
    with pytest.raises(InvalidParameterError, match="unknown material 'Cu'"):
        parse_materials("Cu")
    with pytest.raises(InvalidParameterError, match="MoS2 has no zone axis"):
        parse_materials("MoS2[110]")


# --- probe --------------------------------------------------------------------------------


def _fwhm_A(otf: np.ndarray, shape: tuple[int, int], sampling_A: float) -> float:
    profile = np.fft.fftshift(np.fft.irfft2(otf, s=shape))[shape[0] // 2]
    above = np.flatnonzero(profile >= profile.max() / 2)
    return (above[-1] - above[0] + 1) * sampling_A


def test_aberration_free_probe_is_the_airy_disk() -> None:
    """FWHM of |ψ|² for a round aperture without aberrations is 0.514 λ/α; width=0.5 halves it."""
    probe = Probe(energy_eV=300e3, semiangle_mrad=25.0, defocus_A=0.0, cs_um=0.0)
    shape, sampling = (512, 512), 0.02
    otf = probe_otf(shape, sampling, probe)
    assert otf[0, 0] == pytest.approx(1.0, abs=1e-5)
    airy = 0.514 * electron_wavelength_A(300e3) / 25e-3
    assert _fwhm_A(otf, shape, sampling) == pytest.approx(airy, rel=0.06)
    half = probe_otf(shape, sampling, probe, width=0.5)
    assert _fwhm_A(half, shape, sampling) == pytest.approx(airy / 2, rel=0.1)


# --- one sample ---------------------------------------------------------------------------


def test_sample_arrays_and_metadata() -> None:
    sample = _sample(0)
    for name in LABELS:
        assert sample.arrays[name].dtype == np.float32 and sample.arrays[name].shape == (SIZE, SIZE)
    assert sample.arrays["mask"].dtype == np.uint8 and set(np.unique(sample.arrays["mask"])) == {0, 1}
    assert sample.arrays["clean"].max() == pytest.approx(1.0)
    assert sample.arrays["superres"].max() == pytest.approx(1.0)
    meta = sample.metadata
    for key in ("material", "zone_axis", "pixel_size_A", "dose_e_per_A2", "dose_e_per_px", "z_exponent",
                "energy_eV", "semiangle_mrad", "defocus_A", "cs_um", "background_kind", "scan_jitter_px"):
        assert key in meta
    assert meta["dose_e_per_px"] == pytest.approx(meta["dose_e_per_A2"] * meta["pixel_size_A"] ** 2)
    assert 1.6 <= meta["z_exponent"] <= 2.0 and 0.08 <= meta["pixel_size_A"] <= 0.2


def test_clean_peaks_lie_on_the_mask_columns() -> None:
    for i in range(6):
        sample = _sample(i, OPEN_ZONES)
        clean, mask = sample.arrays["clean"], sample.arrays["mask"]
        peaks = (clean == maximum_filter(clean, size=5)) & (clean > 0.5)
        peaks[:3], peaks[-3:], peaks[:, :3], peaks[:, -3:] = False, False, False, False
        assert peaks.sum() >= 5, sample.metadata
        assert mask[peaks].all(), sample.metadata
        # ... and the mask is the disks it claims: ~pi r^2 per visible column, not a blob.
        assert 0.02 < mask.mean() < 0.6


def test_superres_is_sharper_than_clean() -> None:
    def high_frequency_fraction(image: np.ndarray) -> float:
        power = np.abs(np.fft.fft2(image - image.mean())) ** 2
        k = np.hypot(*np.meshgrid(np.fft.fftfreq(SIZE), np.fft.fftfreq(SIZE), indexing="ij"))
        return float(power[k > 0.15].sum() / power.sum())

    for i in range(4):
        arrays = _sample(i).arrays
        assert high_frequency_fraction(arrays["superres"]) > 1.3 * high_frequency_fraction(arrays["clean"])


def test_background_only_in_noise_free() -> None:
    with_bg = _sample(3, background_ptp=(0.3, 0.3), background_offset=(0.1, 0.1))
    without = _sample(3, background_ptp=(0.0, 0.0), background_offset=(0.0, 0.0))
    np.testing.assert_array_equal(with_bg.arrays["clean"], without.arrays["clean"])
    np.testing.assert_array_equal(without.arrays["noise_free"], without.arrays["clean"])
    background = with_bg.arrays["noise_free"] - with_bg.arrays["clean"]
    assert background.min() == pytest.approx(0.1, abs=1e-5)
    assert np.ptp(background) == pytest.approx(0.3, abs=1e-5)
    # Smooth: changes slowly from pixel to pixel, unlike the lattice.
    def steps(image: np.ndarray) -> float:
        return max(np.abs(np.diff(image, axis=0)).max(), np.abs(np.diff(image, axis=1)).max())

    assert steps(background) < 0.02 < 0.2 < steps(with_bg.arrays["clean"])


def test_noisy_is_unbiased_with_scan_noise() -> None:
    sample = _sample(5, dose_e_per_A2=(1e4, 1e4))
    noisy, noise_free = sample.arrays["noisy"], sample.arrays["noise_free"]
    assert noisy.mean() == pytest.approx(noise_free.mean(), rel=0.02)
    assert not np.allclose(noisy, noise_free, atol=1e-3)


@pytest.mark.parametrize("materials", ["Au[100]", "MoS2"])
def test_shot_noise_variance_scales_as_one_over_dose(materials: str) -> None:
    """Without scan noise, noisy - noise_free has variance noise_free / dose_e_per_px per pixel."""
    off = dict(scan_jitter_px=(0.0, 0.0), scan_flicker=(0.0, 0.0))
    for dose in (1e3, 1e4):
        sample = _sample(7, materials, dose_e_per_A2=(dose, dose), **off)
        residual = sample.arrays["noisy"].astype(np.float64) - sample.arrays["noise_free"]
        dose_px = sample.metadata["dose_e_per_px"]
        assert residual.mean() == pytest.approx(0.0, abs=4 * math.sqrt(sample.arrays["noise_free"].mean()
                                                                      / dose_px / residual.size))
        assert (residual**2).mean() * dose_px == pytest.approx(sample.arrays["noise_free"].mean(), rel=0.05)


def test_scan_noise_flicker_and_jitter_act_per_line() -> None:
    huge = dict(dose_e_per_A2=(1e9, 1e9))
    flicker = _sample(2, scan_jitter_px=(0.0, 0.0), scan_flicker=(0.05, 0.05), **huge).arrays
    ratio = flicker["noisy"] / flicker["noise_free"]
    assert ratio.std(axis=1).max() < 2e-3  # one gain per line
    assert 0.03 < ratio.mean(axis=1).std() < 0.07
    jitter = _sample(2, scan_jitter_px=(1.0, 1.0), scan_flicker=(0.0, 0.0), **huge).arrays
    quiet = _sample(2, scan_jitter_px=(0.0, 0.0), scan_flicker=(0.0, 0.0), **huge).arrays
    np.testing.assert_allclose(quiet["noisy"], quiet["noise_free"], atol=5e-3)
    assert np.abs(jitter["noisy"] - jitter["noise_free"]).max() > 0.1
    # Each line is the noise-free line read ~N(0, 1 px) further along x: recover the shifts.
    x, inner = np.arange(SIZE), slice(8, SIZE - 8)
    candidates = np.arange(-4.0, 4.0, 0.05)
    shifts, misfits = [], []
    for noisy_row, row in zip(jitter["noisy"], jitter["noise_free"]):
        misfit = [np.abs(noisy_row[inner] - np.interp(x + d, x, row)[inner]).max() for d in candidates]
        shifts.append(candidates[int(np.argmin(misfit))])
        misfits.append(min(misfit))
    assert max(misfits) < 0.15
    assert 0.7 < np.std(shifts) < 1.3


# --- data set -----------------------------------------------------------------------------


def test_same_seed_same_arrays() -> None:
    config = StemConfig(seed=3, size_px=SIZE, ranges=StemRanges(), materials=tuple(parse_materials(None)))
    first, again = render_stem_sample(config, 4), render_stem_sample(config, 4)
    for name in (*LABELS, "mask"):
        np.testing.assert_array_equal(first.arrays[name], again.arrays[name])
    assert first.metadata == again.metadata and first.metadata["index"] == 4
    other = render_stem_sample(StemConfig(seed=4, size_px=SIZE, ranges=StemRanges(),
                                          materials=config.materials), 4)
    assert not np.array_equal(first.arrays["noisy"], other.arrays["noisy"])


def test_dataset_resumes_to_the_same_samples(tmp_path: Path) -> None:
    whole, parts = tmp_path / "whole.zarr", tmp_path / "parts.zarr"
    kwargs = dict(size_px=SIZE, seed=9)
    report = simulate_stem_dataset(whole, StemDatasetConfig(n_images=5, **kwargs), progress=False)
    assert report.samples_written == 5
    store = DatasetStore.open(whole)
    assert store.ids() == [stem_sample_id(i) for i in range(5)]
    assert store.attrs["kind"] == "stem" and store.attrs["simulation"]["seed"] == 9

    simulate_stem_dataset(parts, StemDatasetConfig(n_images=2, **kwargs), progress=False)
    early = store_contents(parts)
    resumed = simulate_stem_dataset(parts, StemDatasetConfig(n_images=5, **kwargs), progress=False)
    assert resumed.structures_skipped == [0, 1] and resumed.samples_written == 3
    after = store_contents(parts)
    for key, (meta, arrays) in early.items():
        assert after[key][0] == meta
        for name in arrays:
            np.testing.assert_array_equal(after[key][1][name], arrays[name])
    expected = store_contents(whole)
    assert after.keys() == expected.keys()
    for key in expected:
        assert after[key][0] == expected[key][0]
        for name in expected[key][1]:
            np.testing.assert_array_equal(after[key][1][name], expected[key][1][name])
    with pytest.raises(OutputFileError, match="different settings"):
        simulate_stem_dataset(parts, StemDatasetConfig(n_images=5, size_px=SIZE, seed=10), progress=False)


def test_parallel_workers_write_the_same_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stem_dataset, "CHUNK", 2)
    serial, parallel = tmp_path / "serial.zarr", tmp_path / "parallel.zarr"
    config = StemDatasetConfig(n_images=4, size_px=32, seed=1, materials="Au,MoS2")
    simulate_stem_dataset(serial, config, progress=False)
    simulate_stem_dataset(parallel, config, progress=False, workers=2)
    a, b = store_contents(serial), store_contents(parallel)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key][1]["noisy"], b[key][1]["noisy"])


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(n_images=0), "n_images must be an integer >= 1"),
    (dict(dose_range_e_per_A2=(0.0, 10.0)), "dose range"),
    (dict(dose_range_e_per_A2=(100.0, 10.0)), "dose range"),
    (dict(pixel_size_range_A=(-0.1, 0.2)), "pixel size range"),
    (dict(materials="Unobtainium"), "unknown material"),
    (dict(size_px=4), "size_px must be >= 8"),
    (dict(workers=0), "workers must be an integer >= 1"),
])
def test_bad_parameters_raise_one_line_and_write_nothing(tmp_path: Path, kwargs: dict, message: str) -> None:
    out = tmp_path / "bad.zarr"
    arguments = {"n_images": 2, **kwargs}
    workers = arguments.pop("workers", 1)
    with pytest.raises(InvalidParameterError, match=message) as info:
        simulate_stem_dataset(out, StemDatasetConfig.validate_dict(arguments), workers=workers, progress=False)
    assert "\n" not in str(info.value)
    assert not out.exists()


@pytest.mark.parametrize("pixel_size_A", [0.08, 0.5, 0.9, 1.2, 1.5])
def test_coarse_pixels_get_a_margin_with_a_fast_fft_length(pixel_size_A: float) -> None:
    """An oversampling factor of 7 or more (coarse pixels) once left no fast FFT length: the
    margin search never ended. The factor is 5-smooth, so a margin is found."""
    probe = Probe(energy_eV=200e3, semiangle_mrad=25.0, defocus_A=0.0, cs_um=0.0)
    factor = oversampling_factor(pixel_size_A, probe, atom_sigma_A=0.1)
    assert next_fast_len(factor, real=True) == factor
    assert factor >= math.ceil(pixel_size_A * 8 * probe.aperture_k - 1e-9)  # the probe's band below Nyquist
    margin = crystal_margin_px(pixel_size_A, probe, factor, 256)
    grid = factor * (256 + 2 * margin)
    assert next_fast_len(grid, real=True) == grid
