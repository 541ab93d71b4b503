"""Random CeO2-supported Au nanoparticles for HRTEM simulation (Larsen et al. 2023, Methods §2).

Geometry, seen along the beam (z):

* an Au FCC particle cut from a sphere, with [1-10] (a <110> zone axis) along z;
* truncated on a (111) plane at a random layer near the sphere centre;
* that (111) face rests on the (111) surface of a CeO2 support, also in a <110>
  zone axis (cube-on-cube). A (111) plane contains the [1-10] beam direction, so the
  interface is seen edge-on: the support fills the half of the field "below" the
  particle in the image plane, and is as thick along the beam as the particle.
  (No (111) plane can face the beam in a <110> zone axis -- [111] and [110] are
  35° apart -- so a plan-view support under the particle would contradict Larsen et al. 2023.)
* the whole assembly is tilted off the zone axis by up to 3° and rotated at random
  about the optical axis, then cut to the cell; the support is built larger than
  the cell diagonal so that it still fills its half of the field after rotation.
* the cell is the requested field of view plus a ``margin_A`` frame on every side.
  The simulation is periodic, so the support is cut at the cell edge and the lens
  delocalises contrast across it; with a margin the cut (and what the lens smears
  across it) lies outside the field, which is cropped out of the image afterwards
  (:func:`dosewise.simulate.render.render_sample`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from ase import Atoms
from ase.build import bulk, surface
from ase.lattice.cubic import FaceCenteredCubic

from dosewise.errors import InvalidParameterError

AU_LATTICE_A = 4.078
CEO2_LATTICE_A = 5.411
AU_D111_A = AU_LATTICE_A / math.sqrt(3.0)
# Au-support plane distance at the interface (typical metal/oxide spacing).
INTERFACE_GAP_A = 2.5
# Largest particle diameter as a fraction of the field, so particle + support fit.
MAX_DIAMETER_FRACTION = 0.6
# The truncation plane is drawn among the (111) layers within this fraction of the radius.
TRUNCATION_FRACTION = 0.3

# Au with x = [11-2], y = [111], z = [1-10]: the (111) planes are y = const, the beam is <110>.
_AU_DIRECTIONS = ([1, 1, -2], [1, 1, 1], [1, -1, 0])


@dataclass(frozen=True)
class StructureParams:
    """The random draws that made one structure, stored with every image of it."""

    diameter_A: float
    truncation_layer: int
    truncation_offset_A: float
    tilt_deg: float
    tilt_azimuth_deg: float
    rotation_deg: float
    n_au_atoms: int
    n_support_atoms: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class SupportedParticle:
    """Atoms in a cell of ``field_A + 2 margin_A`` square laterally; ``au_indices`` index the particle.

    The field of view is the central ``field_A`` x ``field_A`` square of the cell,
    i.e. cell coordinates ``[margin_A, margin_A + field_A)`` in x and y.
    """

    atoms: Atoms
    au_indices: np.ndarray
    params: StructureParams
    margin_A: float = 0.0

    @property
    def field_A(self) -> float:
        return float(self.atoms.cell.lengths()[0] - 2 * self.margin_A)

    @property
    def au_xy_A(self) -> np.ndarray:
        """Projected (x, y) positions of the Au atoms in Å, what the mask is built from."""
        return self.atoms.positions[self.au_indices, :2]


def diameter_bounds_A(field_A: float, diameter_range_A: tuple[float, float]) -> tuple[float, float]:
    """The diameter range, capped so that the particle fits in a field of ``field_A``."""
    low, high = diameter_range_A
    if not 0 < low <= high:
        raise InvalidParameterError(f"diameter range must satisfy 0 < low <= high, got {diameter_range_A}")
    cap = MAX_DIAMETER_FRACTION * field_A
    return min(low, cap), min(high, cap)


def _au_particle(diameter_A: float, layer: int) -> tuple[np.ndarray, float]:
    """Au positions of a sphere truncated at (111) layer ``layer``; returns (positions, face y)."""
    periods = np.linalg.norm(
        FaceCenteredCubic(directions=_AU_DIRECTIONS, size=(1, 1, 1), symbol="Au",
                          latticeconstant=AU_LATTICE_A).cell, axis=1
    )
    size = tuple(int(math.ceil(diameter_A / p)) + 2 for p in periods)
    block = FaceCenteredCubic(directions=_AU_DIRECTIONS, size=size, symbol="Au",
                              latticeconstant=AU_LATTICE_A)
    pos = block.positions
    # Centre the sphere on the atom nearest the block centre, so layers sit at y = k * d111.
    centre = pos[np.argmin(np.linalg.norm(pos - block.cell.sum(axis=0) / 2, axis=1))]
    pos = pos - centre
    face_y = layer * AU_D111_A
    keep = (np.linalg.norm(pos, axis=1) <= diameter_A / 2) & (pos[:, 1] >= face_y - 0.1)
    return pos[keep], face_y


def _ceo2_cell() -> Atoms:
    """Orthogonal CeO2 (111) cell mapped to x = <112>, y = [111] (surface normal), z = <110>."""
    from abtem import orthogonalize_cell

    slab = orthogonalize_cell(surface(bulk("CeO2", "fluorite", a=CEO2_LATTICE_A), (1, 1, 1),
                                      layers=3, periodic=True))
    # ASE's slab is x = <110>, y = <112>, z = [111]; a cyclic permutation keeps it right-handed.
    lengths = slab.cell.lengths()
    return Atoms(slab.get_chemical_symbols(), positions=slab.positions[:, [1, 2, 0]],
                 cell=np.diag(lengths[[1, 2, 0]]), pbc=True)


def _support(width_A: float, depth_A: float, thickness_A: float) -> Atoms:
    """CeO2 with its (111) surface at y = 0, spanning at least ±width/2 in x, [-depth, 0] in y.

    z runs over [0, thickness]. The lattice is registered to x = 0 independently of
    ``width_A`` (shifted by whole periods only), so a wider support -- a larger
    simulation margin -- adds atoms at the sides without moving the ones near the particle.
    """
    cell = _ceo2_cell()
    period = cell.cell.lengths()
    half_x = int(math.ceil(width_A / 2 / period[0]))
    reps = (2 * half_x, int(math.ceil(depth_A / period[1])), int(math.ceil(thickness_A / period[2])))
    slab = cell.repeat(reps)
    pos = slab.positions
    pos = pos - [cell.positions[:, 0].min() + half_x * period[0], pos[:, 1].max(), pos[:, 2].min()]
    return Atoms(slab.get_chemical_symbols(), positions=pos)


def _rotation(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rotation matrix about the unit vector ``axis`` (Rodrigues), acting on row vectors as p @ R.T."""
    x, y, z = axis / np.linalg.norm(axis)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + math.sin(angle_rad) * k + (1 - math.cos(angle_rad)) * k @ k


def build_supported_particle(
    field_A: float,
    *,
    seed: int | np.random.SeedSequence | np.random.Generator | None,
    diameter_range_A: tuple[float, float] = (15.0, 50.0),
    max_tilt_deg: float = 3.0,
    vacuum_A: float = 5.0,
    margin_A: float = 0.0,
) -> SupportedParticle:
    """One random supported particle in a field of view of side ``field_A`` (Å).

    The cell is ``field_A + 2 margin_A`` square, with the field in its centre. The
    particle is centred in the field; the support fills the cell below the interface
    line, margin included, so its cut at the periodic cell edge lies ``margin_A``
    outside the field. Diameters above 60 % of the field are capped (see
    :func:`diameter_bounds_A`) so that small test fields still hold a whole particle.
    The random draws do not depend on ``margin_A``: the same seed gives the same
    particle at the same place in the field for any margin.
    """
    if field_A <= 0:
        raise InvalidParameterError(f"field of view must be > 0 Å, got {field_A}")
    if not margin_A >= 0:
        raise InvalidParameterError(f"margin must be >= 0 Å, got {margin_A}")
    rng = np.random.default_rng(seed)
    d_low, d_high = diameter_bounds_A(field_A, diameter_range_A)
    diameter_A = float(rng.uniform(d_low, d_high))
    max_layer = int(TRUNCATION_FRACTION * diameter_A / 2 / AU_D111_A)
    layer = int(rng.integers(-max_layer, max_layer + 1))
    tilt_deg = float(rng.uniform(0.0, max_tilt_deg))
    tilt_azimuth_deg = float(rng.uniform(0.0, 360.0))
    rotation_deg = float(rng.uniform(0.0, 360.0))

    au, face_y = _au_particle(diameter_A, layer)
    cell_A = field_A + 2 * margin_A
    diagonal = math.sqrt(2.0) * cell_A
    support = _support(width_A=diagonal + 2 * INTERFACE_GAP_A, depth_A=diagonal, thickness_A=diameter_A)
    support_pos = support.positions + [0.0, face_y - INTERFACE_GAP_A, -support.positions[:, 2].mean()]

    positions = np.vstack([au, support_pos])
    # Centre the particle's projected bounding box on the origin before tilting/rotating.
    centre = (au.min(axis=0) + au.max(axis=0)) / 2
    centre[2] = 0.0
    positions = positions - centre
    azimuth = math.radians(tilt_azimuth_deg)
    tilt = _rotation(np.array([math.cos(azimuth), math.sin(azimuth), 0.0]), math.radians(tilt_deg))
    spin = _rotation(np.array([0.0, 0.0, 1.0]), math.radians(rotation_deg))
    positions = positions @ (spin @ tilt).T + [cell_A / 2, cell_A / 2, 0.0]

    symbols = np.array(["Au"] * len(au) + support.get_chemical_symbols())
    is_au = np.arange(len(positions)) < len(au)
    inside = np.all((positions[:, :2] >= 0) & (positions[:, :2] < cell_A), axis=1)
    positions, symbols, is_au = positions[inside], symbols[inside], is_au[inside]
    positions[:, 2] += vacuum_A - positions[:, 2].min()
    atoms = Atoms(symbols.tolist(), positions=positions,
                  cell=[cell_A, cell_A, positions[:, 2].max() + vacuum_A], pbc=True)
    params = StructureParams(
        diameter_A=diameter_A,
        truncation_layer=layer,
        truncation_offset_A=float(face_y),
        tilt_deg=tilt_deg,
        tilt_azimuth_deg=tilt_azimuth_deg,
        rotation_deg=rotation_deg,
        n_au_atoms=int(is_au.sum()),
        n_support_atoms=int((~is_au).sum()),
    )
    return SupportedParticle(atoms=atoms, au_indices=np.flatnonzero(is_au), params=params,
                             margin_A=float(margin_A))
