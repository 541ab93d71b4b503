from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.ndimage import binary_dilation
from scipy.spatial import cKDTree

from dosewise.config import MicroscopeParams
from dosewise.errors import InvalidParameterError
from dosewise.simulate.hrtem import (
    compute_exit_wave,
    electron_wavelength_A,
    image_from_exit_wave,
    oversampling,
    pixel_origin_A,
)
from dosewise.simulate.mask import hull_mask
from tests.helpers.simulate import PIXEL_SIZE_A, SIZE_PX, Simulated

OPTICS = MicroscopeParams(energy_eV=300e3, defocus_A=60.0, cs_um=8.0, focal_spread_A=12.0,
                          blur_A=0.4, dose_e_per_A2=1e3)
SHAPE = (SIZE_PX, SIZE_PX)


def _mask(simulated: Simulated) -> tuple[np.ndarray, float]:
    origin = pixel_origin_A(simulated.exit_wave.sampling_A, PIXEL_SIZE_A)
    return hull_mask(simulated.particle.au_xy_A, PIXEL_SIZE_A, SHAPE, origin_A=origin)


def _vacuum(simulated: Simulated, min_distance_A: float = 4.0) -> np.ndarray:
    """Pixels farther than ``min_distance_A`` from every projected atom."""
    origin = pixel_origin_A(simulated.exit_wave.sampling_A, PIXEL_SIZE_A)
    rows, cols = np.mgrid[: SHAPE[0], : SHAPE[1]]
    centres = np.stack([cols.ravel(), rows.ravel()], axis=1) * PIXEL_SIZE_A + origin
    distance, _ = cKDTree(simulated.particle.atoms.positions[:, :2]).query(centres)
    return (distance > min_distance_A).reshape(SHAPE)


def test_exit_wave_grid_and_empty_cell_gives_unit_image() -> None:
    ones = np.ones((256, 256), np.complex64)
    image = image_from_exit_wave(ones, 0.2, OPTICS, PIXEL_SIZE_A, SHAPE)
    assert image.shape == SHAPE and image.dtype == np.float32
    np.testing.assert_allclose(image, 1.0, atol=1e-5)
    assert oversampling(0.4, 0.2) == 2 and oversampling(0.075, 0.1) == 1 and oversampling(0.4, 0.15) == 3


def test_exit_wave_is_complex_on_the_requested_grid(simulated: Simulated) -> None:
    wave = simulated.exit_wave
    assert wave.array.shape == (2 * SIZE_PX, 2 * SIZE_PX) and np.iscomplexobj(wave.array)
    assert wave.sampling_A == pytest.approx(0.2)
    assert electron_wavelength_A(300e3) == pytest.approx(0.019687, rel=1e-4)


def test_lens_matches_abtem_ctf_with_converted_conventions(simulated: Simulated) -> None:
    """Our defocus (C10 = -defocus) and focal spread (sigma; abTEM's 1/e = sqrt(2) sigma) match abTEM."""
    import abtem

    wave = simulated.exit_wave
    optics = OPTICS.model_copy(update={"blur_A": 0.0})
    ours = image_from_exit_wave(wave.array, wave.sampling_A, optics, wave.sampling_A, wave.array.shape)
    ctf = abtem.CTF(defocus=optics.defocus_A, Cs=optics.cs_um * 1e4,
                    focal_spread=math.sqrt(2) * optics.focal_spread_A, energy=300e3)
    waves = abtem.Waves(np.ascontiguousarray(wave.array.T), sampling=wave.sampling_A, energy=300e3)
    reference = waves.apply_ctf(ctf).intensity().compute(scheduler="synchronous").array.T
    np.testing.assert_allclose(ours, reference, atol=2e-4)
    flipped = image_from_exit_wave(wave.array, wave.sampling_A,
                                   optics.model_copy(update={"defocus_A": -optics.defocus_A}),
                                   wave.sampling_A, wave.array.shape)
    assert np.abs(flipped - reference).max() > 0.1


def test_image_is_normalised_and_particle_differs_from_surroundings(simulated: Simulated) -> None:
    wave = simulated.exit_wave
    image = image_from_exit_wave(wave.array, wave.sampling_A, OPTICS, PIXEL_SIZE_A, SHAPE)
    mask, _ = _mask(simulated)
    vacuum = _vacuum(simulated)
    assert vacuum.sum() > 1000 and mask.sum() > 200
    assert image[vacuum].mean() == pytest.approx(1.0, abs=0.01)
    inside, outside = image[mask == 1], image[mask == 0]
    assert outside.mean() - inside.mean() > 0.01  # scattering out of the passband darkens the particle
    assert inside.std() > 3 * image[vacuum].std()  # lattice contrast where the mask is


def test_mask_area_matches_the_projected_convex_hull(simulated: Simulated) -> None:
    mask, hull_area_px = _mask(simulated)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1}
    assert mask.sum() == pytest.approx(hull_area_px, rel=0.02)
    # Every Au atom lies on or next to a mask pixel.
    origin = pixel_origin_A(simulated.exit_wave.sampling_A, PIXEL_SIZE_A)
    cols, rows = np.round((simulated.particle.au_xy_A - origin) / PIXEL_SIZE_A).astype(int).T
    assert binary_dilation(mask)[rows, cols].all()


def test_hull_mask_of_a_square_is_exact() -> None:
    square = np.array([[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0], [20.0, 20.0]])
    mask, area = hull_mask(square, 0.5, (100, 100), origin_A=0.25)
    assert area == pytest.approx(1600.0)
    assert mask.sum() == 1600
    with pytest.raises(InvalidParameterError):
        hull_mask(square[:2], 0.5, (100, 100))
    # Cropped: only the part inside the image counts (pixel edges at x, y = 0 .. 20 Å here).
    mask, area = hull_mask(square, 0.5, (40, 40), origin_A=0.25)
    assert area == pytest.approx(400.0) and mask.sum() == 400
    mask, area = hull_mask(square + 100.0, 0.5, (40, 40), origin_A=0.25)
    assert area == 0.0 and mask.sum() == 0


def test_mismatched_grid_is_a_clear_error(simulated: Simulated) -> None:
    wave = simulated.exit_wave
    with pytest.raises(InvalidParameterError, match="does not bin"):
        image_from_exit_wave(wave.array, wave.sampling_A, OPTICS, 0.3, SHAPE)


def test_frozen_phonons_are_seeded_and_averaged(simulated: Simulated) -> None:
    atoms = simulated.particle.atoms
    a = compute_exit_wave(atoms, sampling_A=0.4, frozen_phonons=2, seed=1)
    b = compute_exit_wave(atoms, sampling_A=0.4, frozen_phonons=2, seed=1)
    assert a.array.shape == (2, SIZE_PX, SIZE_PX)
    np.testing.assert_array_equal(a.array, b.array)
    assert not np.allclose(a.array[0], a.array[1])
    image = image_from_exit_wave(a.array, a.sampling_A, OPTICS, PIXEL_SIZE_A, SHAPE)
    single = [image_from_exit_wave(w, a.sampling_A, OPTICS, PIXEL_SIZE_A, SHAPE) for w in a.array]
    np.testing.assert_allclose(image, np.mean(single, axis=0), atol=1e-5)
