"""Crystals in zone axes, projected to atom columns, for ADF-STEM simulation (TEMImageNet-like).

In the incoherent ADF-STEM model (:mod:`dosewise.simulate.stem`) a specimen is fully
described by its projected atom columns: (x, y) and the atoms in each column. A
crystal viewed along a zone axis [uvw] projects to a 2-D periodic lattice of columns,
so one 2-D unit cell of columns (built once per material and zone axis with ASE) tiles
any field of view.

How a zone axis is projected: ``ase.build.surface(bulk, (u, v, w), layers)`` returns a
cell whose first two vectors span the lattice plane normal to the beam and whose
atoms are stacked along that normal (z). For the cubic, tetragonal and hexagonal
[001] cases used here the plane (uvw) is normal to the direction [uvw]. ``layers`` is
the number of lattice planes in one repeat of the crystal along the beam (1 for
[100], 2 for fcc [110], 3 for fcc [111], ...), found from the in-plane shift between
successive planes; projecting those atoms modulo the 2-D cell gives every column with
its atoms per repeat. 2-D materials (monolayer MoS2 from ``ase.build.mx2``) are
projected directly.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.build import bulk, mx2, surface
from ase.spacegroup import crystal
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from dosewise.errors import InvalidParameterError

Zone = tuple[int, int, int]
# Columns closer than this (Å) in projection are one column.
_COLUMN_TOL_A = 1e-3
_MAX_LAYERS = 24


def _srtio3() -> Atoms:
    return crystal(["Sr", "Ti", "O"], basis=[(0, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0)],
                   spacegroup=221, cellpar=[3.905, 3.905, 3.905, 90, 90, 90])


def _rutile() -> Atoms:
    return crystal(["Ti", "O"], basis=[(0, 0, 0), (0.3049, 0.3049, 0)], spacegroup=136,
                   cellpar=[4.594, 4.594, 2.959, 90, 90, 90])


def _mos2_monolayer() -> Atoms:
    return mx2("MoS2", kind="2H", a=3.184, thickness=3.13, vacuum=None)


# Material -> (conventional cell builder, zone axes). Lattice constants in Å (room temperature).
MATERIALS: dict[str, tuple[Callable[[], Atoms], tuple[Zone, ...]]] = {
    "Si": (lambda: bulk("Si", "diamond", a=5.431, cubic=True), ((1, 0, 0), (1, 1, 0), (1, 1, 1))),
    "GaAs": (lambda: bulk("GaAs", "zincblende", a=5.653, cubic=True), ((1, 0, 0), (1, 1, 0))),
    "SrTiO3": (_srtio3, ((1, 0, 0), (1, 1, 0))),
    "Au": (lambda: bulk("Au", "fcc", a=4.078, cubic=True), ((1, 0, 0), (1, 1, 0), (1, 1, 1))),
    "Pt": (lambda: bulk("Pt", "fcc", a=3.924, cubic=True), ((1, 0, 0), (1, 1, 0), (1, 1, 1))),
    "Fe": (lambda: bulk("Fe", "bcc", a=2.867, cubic=True), ((1, 0, 0), (1, 1, 0), (1, 1, 1))),
    "W": (lambda: bulk("W", "bcc", a=3.165, cubic=True), ((1, 0, 0), (1, 1, 0), (1, 1, 1))),
    "TiO2": (_rutile, ((0, 0, 1), (1, 0, 0), (1, 1, 0))),
    "MoS2": (_mos2_monolayer, ((0, 0, 1),)),
}


def zone_name(zone: Zone) -> str:
    """``(1, 1, 0)`` -> ``"[110]"`` (negative indices as ``-1``)."""
    return "[" + "".join(str(i) for i in zone) + "]"


def all_zones() -> list[tuple[str, Zone]]:
    """Every (material, zone axis) pair the simulator knows."""
    return [(material, zone) for material, (_, zones) in MATERIALS.items() for zone in zones]


_SPEC = re.compile(r"^\s*([A-Za-z0-9]+)\s*(?:\[\s*(-?\d)\s*(-?\d)\s*(-?\d)\s*\])?\s*$")


def parse_materials(spec: str | Iterable[str] | None) -> list[tuple[str, Zone]]:
    """Materials to simulate: ``None`` for all, else names ("Au": all its zone axes) or
    name plus zone ("Au[110]"), as a list or one comma-separated string."""
    if spec is None:
        return all_zones()
    items = [s for s in (spec.split(",") if isinstance(spec, str) else spec) if str(s).strip()]
    if not items:
        raise InvalidParameterError("materials must name at least one material, got none")
    known = ", ".join(MATERIALS)
    chosen: list[tuple[str, Zone]] = []
    for item in items:
        match = _SPEC.match(str(item))
        name = match.group(1) if match else str(item).strip()
        if match is None or name not in MATERIALS:
            raise InvalidParameterError(f"unknown material {str(item).strip()!r}; known: {known}")
        zones = MATERIALS[name][1]
        if match.group(2) is None:
            picked = list(zones)
        else:
            zone = tuple(int(match.group(i)) for i in (2, 3, 4))
            if zone not in zones:
                raise InvalidParameterError(
                    f"{name} has no zone axis {zone_name(zone)}; it has "
                    f"{', '.join(zone_name(z) for z in zones)}"
                )
            picked = [zone]
        chosen += [(name, z) for z in picked if (name, z) not in chosen]
    return chosen


@dataclass(frozen=True)
class ProjectedCrystal:
    """One 2-D unit cell of atom columns: a crystal seen along a zone axis.

    ``counts[k, s]`` atoms of element ``species_Z[s]`` sit in column ``k`` per repeat
    of ``period_A`` along the beam (the ASE cell's repeat, which for centred lattices
    may be a multiple of the shortest one; every column is scaled alike).
    """

    material: str
    zone: Zone
    cell_A: np.ndarray  # (2, 2): rows are the in-plane lattice vectors a1, a2 (x, y) in Å
    columns_A: np.ndarray  # (K, 2): column (x, y) inside the cell, Å
    species_Z: np.ndarray  # (S,) atomic numbers
    counts: np.ndarray  # (K, S)
    period_A: float

    def weights(self, z_exponent: float) -> np.ndarray:
        """ADF scattering weight of each column: sum over its atoms of Z**n."""
        return self.counts @ (self.species_Z.astype(np.float64) ** z_exponent)


def _layers_per_period(lattice: Atoms, zone: Zone) -> int:
    """Lattice planes normal to ``zone`` in one repeat along it (from the in-plane plane shift)."""
    n = len(lattice)
    two = surface(lattice, zone, 2, periodic=True)
    frac = two.cell.scaled_positions(two.positions)[:, :2]
    shift = (frac[n] - frac[0]) % 1.0
    for layers in range(1, _MAX_LAYERS + 1):
        residue = (layers * shift) % 1.0
        if np.all(np.minimum(residue, 1.0 - residue) < 1e-6):
            return layers
    raise InvalidParameterError(f"zone axis {zone_name(zone)} repeats after more than {_MAX_LAYERS} planes")


def _group_columns(frac: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Column index of every atom: atoms within _COLUMN_TOL_A in projection (periodic cell)."""
    delta = frac[:, None, :] - frac[None, :, :]
    delta -= np.round(delta)
    close = np.linalg.norm(delta @ cell, axis=-1) < _COLUMN_TOL_A
    _, labels = connected_components(csr_matrix(close), directed=False)
    return labels


@functools.lru_cache(maxsize=None)
def projected_crystal(material: str, zone: Zone) -> ProjectedCrystal:
    """The columns of ``material`` along ``zone`` (cached: built once per process)."""
    if material not in MATERIALS or tuple(zone) not in MATERIALS[material][1]:
        raise InvalidParameterError(f"no crystal {material}{zone_name(zone)}")
    lattice = MATERIALS[material][0]()
    if np.allclose(lattice.cell[2], 0.0):  # a 2-D sheet: project along z as built
        slab, period = lattice, 0.0
    else:
        layers = _layers_per_period(lattice, zone)
        slab = surface(lattice, zone, layers, periodic=True)
        period = float(slab.cell[2, 2])
    cell = np.asarray(slab.cell[:2, :2], dtype=np.float64)
    frac = np.linalg.solve(cell.T, slab.positions[:, :2].T).T % 1.0
    column_of_atom = _group_columns(frac, cell)
    species = np.unique(slab.numbers)
    n_columns = int(column_of_atom.max()) + 1
    counts = np.zeros((n_columns, len(species)), dtype=np.int64)
    np.add.at(counts, (column_of_atom, np.searchsorted(species, slab.numbers)), 1)
    first = np.array([np.flatnonzero(column_of_atom == k)[0] for k in range(n_columns)])
    columns = frac[first] @ cell
    return ProjectedCrystal(material=material, zone=tuple(zone), cell_A=cell, columns_A=columns,
                            species_Z=species, counts=counts, period_A=period)


@dataclass(frozen=True)
class PlacedColumns:
    """Columns covering a window of the image plane: positions in Å and crystal column index."""

    x_A: np.ndarray
    y_A: np.ndarray
    kind: np.ndarray  # index into ProjectedCrystal.columns_A / weights


def place_columns(
    projected: ProjectedCrystal,
    *,
    rotation_rad: float,
    offset_frac: tuple[float, float],
    low_A: float,
    high_A: float,
) -> PlacedColumns:
    """Every column of the rotated, shifted crystal with low_A <= x, y < high_A (both axes).

    The crystal is rotated by ``rotation_rad`` about the beam and shifted by
    ``offset_frac`` of its 2-D cell, so the image origin falls anywhere in the cell.
    """
    c, s = math.cos(rotation_rad), math.sin(rotation_rad)
    rot = np.array([[c, s], [-s, c]])  # row vectors: v @ rot rotates v by +angle
    cell = projected.cell_A @ rot
    origin = np.asarray(offset_frac, dtype=np.float64) @ cell
    basis = projected.columns_A @ rot + origin
    corners = np.array([[low_A, low_A], [low_A, high_A], [high_A, low_A], [high_A, high_A]])
    corner_frac = np.linalg.solve(cell.T, (corners - origin).T).T
    lo = np.floor(corner_frac.min(axis=0)).astype(int) - 1
    hi = np.ceil(corner_frac.max(axis=0)).astype(int) + 1
    i, j = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1), indexing="ij")
    lattice = np.stack([i.ravel(), j.ravel()], axis=1) @ cell
    xy = (lattice[:, None, :] + basis[None, :, :]).reshape(-1, 2)
    kind = np.tile(np.arange(len(basis)), len(lattice))
    keep = np.all((xy >= low_A) & (xy < high_A), axis=1)
    return PlacedColumns(x_A=xy[keep, 0], y_A=xy[keep, 1], kind=kind[keep])
