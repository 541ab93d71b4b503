from __future__ import annotations

import numpy as np
import pytest

from dosewise.errors import InvalidParameterError
from dosewise.simulate.structures import AU_D111_A, build_supported_particle, diameter_bounds_A


def test_same_seed_same_structure_and_different_seed_differs() -> None:
    a = build_supported_particle(40.0, seed=3, diameter_range_A=(15.0, 20.0))
    b = build_supported_particle(40.0, seed=3, diameter_range_A=(15.0, 20.0))
    c = build_supported_particle(40.0, seed=4, diameter_range_A=(15.0, 20.0))
    assert a.params == b.params
    np.testing.assert_array_equal(a.atoms.positions, b.atoms.positions)
    assert a.params != c.params


def test_particle_is_gold_in_cell_on_ceria_with_drawn_parameters_in_range() -> None:
    field_A = 40.0
    for seed in range(4):
        built = build_supported_particle(field_A, seed=seed, diameter_range_A=(15.0, 20.0))
        symbols = np.array(built.atoms.get_chemical_symbols())
        assert set(symbols[built.au_indices]) == {"Au"}
        assert set(np.delete(symbols, built.au_indices)) == {"Ce", "O"}
        assert len(built.au_indices) == built.params.n_au_atoms > 20
        pos = built.atoms.positions
        assert np.all((pos[:, :2] >= 0) & (pos[:, :2] < field_A))
        assert np.allclose(built.atoms.cell.lengths()[:2], field_A)
        assert pos[:, 2].min() >= 4.9 and built.atoms.cell.lengths()[2] - pos[:, 2].max() >= 4.9
        p = built.params
        assert 15.0 <= p.diameter_A <= 20.0 and 0 <= p.tilt_deg <= 3.0 and 0 <= p.rotation_deg < 360
        assert abs(p.truncation_offset_A - p.truncation_layer * AU_D111_A) < 1e-9
        # The particle fits inside its sphere and is centred in the field.
        au = pos[built.au_indices]
        assert np.ptp(au[:, :2], axis=0).max() <= p.diameter_A + 0.5
        assert np.allclose((au[:, :2].min(0) + au[:, :2].max(0)) / 2, field_A / 2, atol=3.0)


def test_support_lies_on_one_side_of_the_particle_face() -> None:
    built = build_supported_particle(50.0, seed=1, diameter_range_A=(18.0, 20.0), max_tilt_deg=0.0)
    angle = np.radians(built.params.rotation_deg)
    normal = np.array([-np.sin(angle), np.cos(angle)])  # the interface normal (y before rotation)
    pos = built.atoms.positions[:, :2]
    heights = pos @ normal
    is_au = np.zeros(len(pos), bool)
    is_au[built.au_indices] = True
    assert heights[~is_au].max() < heights[is_au].min() - 1.0  # a gap between support and particle
    # The particle's lowest layer is a flat (111) plane: many atoms share the minimum height.
    au_heights = heights[is_au]
    assert np.sum(au_heights < au_heights.min() + 0.3) >= 4


def test_diameter_is_capped_to_fit_small_fields_and_bad_input_is_rejected() -> None:
    assert diameter_bounds_A(19.2, (15.0, 50.0)) == pytest.approx((0.6 * 19.2, 0.6 * 19.2))
    assert diameter_bounds_A(200.0, (15.0, 50.0)) == (15.0, 50.0)
    with pytest.raises(InvalidParameterError):
        diameter_bounds_A(50.0, (20.0, 10.0))
    with pytest.raises(InvalidParameterError):
        build_supported_particle(0.0, seed=0)
