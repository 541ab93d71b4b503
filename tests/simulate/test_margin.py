"""The simulation margin: no seam or lens wrap-around of the periodic cell in the cropped image."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial import cKDTree

from dosewise.config import MicroscopeParams, MicroscopeRanges
from dosewise.simulate.dataset import SimulationConfig, simulate_structure
from dosewise.simulate.hrtem import compute_exit_wave, lens_margin_A, pixel_origin_A
from dosewise.simulate.render import Detector, render_sample
from dosewise.simulate.structures import build_supported_particle
from tests.helpers.simulate import DIAMETER_RANGE_A, PIXEL_SIZE_A, SAMPLING_A, SIZE_PX

FIELD_A = SIZE_PX * PIXEL_SIZE_A
# The most delocalising optics of seed 003 Table 1: |defocus| and Cs at their maxima,
# the smallest focal spread and blur (least damping of the high frequencies).
WORST = [MicroscopeParams(energy_eV=300e3, defocus_A=d, cs_um=12.45, focal_spread_A=5.0, blur_A=0.1,
                          dose_e_per_A2=1e3) for d in (-200.0, 200.0)]
NO_NOISE = Detector(mtf=None, n0_e_per_px=0.0, name="none")


def _auto_margin_A() -> float:
    return math.ceil(lens_margin_A(MicroscopeRanges(), SAMPLING_A) / PIXEL_SIZE_A) * PIXEL_SIZE_A


def _clean(particle, wave, optics: MicroscopeParams) -> np.ndarray:
    sample = render_sample(wave, particle, optics, NO_NOISE, pixel_size_A=PIXEL_SIZE_A, size_px=SIZE_PX,
                           rng=np.random.default_rng(0))
    return sample.arrays["clean"]


def test_lens_margin_is_the_largest_delocalisation_in_the_passband() -> None:
    # Fixed optics, no damping: R = λ k (|C10| + λ² C30 k²) at the anti-aliasing cutoff 1/(3 s),
    # plus 2 Å for the atom's own contrast.
    optics = MicroscopeParams(energy_eV=300e3, defocus_A=-100.0, cs_um=10.0, focal_spread_A=0.0,
                              blur_A=0.0, dose_e_per_A2=1.0)
    lam, k = 0.0196875, 1 / (3 * 0.2)
    expected = lam * k * (100 + lam**2 * 1e5 * k**2) + 2.0
    assert lens_margin_A(optics, 0.2) == pytest.approx(expected, rel=1e-3)
    # Damping caps the frequency: a finer grid no longer helps once the envelope has cut off.
    ranges = MicroscopeRanges()
    assert lens_margin_A(ranges, 0.075) == pytest.approx(lens_margin_A(ranges, 0.05))
    assert 20.0 < lens_margin_A(ranges, 0.075) < 30.0
    assert lens_margin_A(ranges, 0.2) < lens_margin_A(ranges, 0.075)
    gentle = MicroscopeRanges(defocus_A=(-20.0, 20.0), cs_um=(0.0, 1.0))
    assert lens_margin_A(gentle, 0.075) < 0.3 * lens_margin_A(ranges, 0.075)


def test_margin_keeps_the_particle_and_the_support_in_the_field_in_place() -> None:
    plain = build_supported_particle(FIELD_A, seed=5, diameter_range_A=DIAMETER_RANGE_A, max_tilt_deg=0.0)
    framed = build_supported_particle(FIELD_A, seed=5, diameter_range_A=DIAMETER_RANGE_A, max_tilt_deg=0.0,
                                      margin_A=12.0)
    assert framed.params.diameter_A == plain.params.diameter_A
    assert framed.params.rotation_deg == plain.params.rotation_deg
    assert framed.margin_A == 12.0 and framed.field_A == pytest.approx(FIELD_A)
    assert np.allclose(framed.atoms.cell.lengths()[:2], FIELD_A + 24.0)
    np.testing.assert_allclose(framed.au_xy_A - 12.0, plain.au_xy_A, atol=1e-9)
    # Every atom of the unframed cell is at the same place in the framed one (shifted by the margin),
    # and the framed support reaches through the margin to the cell edge.
    shifted = framed.atoms.positions - [12.0, 12.0, 0.0]
    distance, _ = cKDTree(shifted).query(plain.atoms.positions)
    assert distance.max() < 1e-6
    support = np.delete(framed.atoms.positions[:, :2], framed.au_indices, axis=0)
    edge = np.minimum(support, FIELD_A + 24.0 - support).min(axis=1)
    assert edge.min() < 1.0
    assert framed.params.n_support_atoms > plain.params.n_support_atoms


@pytest.fixture(scope="module")
def untilted() -> dict[float, tuple]:
    """One untilted structure (so the cells differ only laterally) with three margins."""
    out = {}
    for margin in (0.0, _auto_margin_A(), 3 * _auto_margin_A()):
        particle = build_supported_particle(FIELD_A, seed=7, diameter_range_A=DIAMETER_RANGE_A,
                                            max_tilt_deg=0.0, margin_A=margin)
        out[margin] = (particle, compute_exit_wave(particle.atoms, sampling_A=SAMPLING_A))
    return out


@pytest.mark.parametrize("optics", WORST, ids=["overfocus", "underfocus"])
def test_automatic_margin_matches_a_three_times_larger_one(untilted: dict, optics: MicroscopeParams) -> None:
    none, auto, large = (_clean(*untilted[m], optics) for m in sorted(untilted))
    # Without a margin the periodic seam and the wrapped lens contrast reach into the field ...
    assert np.abs(none - large).max() > 0.3
    # ... with the automatic one the cropped field is the same as with a far larger one.
    assert np.abs(auto - large).max() < 0.02
    assert np.sqrt(np.mean((auto - large) ** 2)) < 0.002


@pytest.mark.parametrize("margin_A", [None, 0.0], ids=["automatic", "none"])
def test_vacuum_along_the_image_border_is_flat(margin_A: float | None) -> None:
    """Known answer: far from every atom the clean intensity is the flat vacuum level 1.

    The support fills one side of the field; the border strip on the other sides is vacuum.
    Without a margin (the old behaviour) support atoms cut by the periodic cell edge and
    the lens contrast wrapped across it show up there as rings.
    """
    config = SimulationConfig(seed=2, size_px=SIZE_PX, ranges=MicroscopeRanges(pixel_size_A=(PIXEL_SIZE_A,) * 2),
                              mtf=None, diameter_range_A=DIAMETER_RANGE_A, max_sampling_A=SAMPLING_A,
                              margin_A=margin_A)
    structure = simulate_structure(config, 0)
    particle = structure.particle
    clean = _clean(particle, structure.exit_wave, WORST[0])
    # Pixel centres in cell coordinates, and their distance to the nearest atom (margin included).
    origin = pixel_origin_A(SAMPLING_A, PIXEL_SIZE_A) + particle.margin_A
    rows, cols = np.mgrid[:SIZE_PX, :SIZE_PX]
    centres = np.stack([cols.ravel(), rows.ravel()], axis=1) * PIXEL_SIZE_A + origin
    far = (cKDTree(particle.atoms.positions[:, :2]).query(centres)[0] > 8.0).reshape(clean.shape)
    border = np.zeros(clean.shape, bool)
    border[:4], border[-4:], border[:, :4], border[:, -4:] = True, True, True, True
    strip, interior = clean[border & far], clean[~border & far]
    assert strip.size > 500 and interior.size > 2000
    flat = strip.std() < 0.005 and np.abs(strip - 1).max() < 0.02
    if margin_A is None:
        assert particle.margin_A > 10.0
        assert flat, (strip.std(), np.abs(strip - 1).max())
        assert strip.std() < 2 * interior.std() + 1e-3  # like vacuum far from the edges
    else:
        assert particle.margin_A == 0.0
        assert not flat and strip.std() > 0.05
