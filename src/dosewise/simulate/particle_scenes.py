"""Labelled nanoparticle fields for segmentation: bright-field TEM and ADF/HAADF-STEM, seeded.

The target images are low- and medium-magnification views of whole particles, where what a
segmenter must find is a particle's footprint and where two particles meet, not lattice
fringes: Au tetrahedra in bright-field TEM at 30 kx (dark faceted triangles, often touching,
on a light support), "patchy" nanoprisms (triangular and hexagonal plates with lighter polymer
patches) and Pt particles on gamma-alumina in HAADF-STEM tomography slices (small bright dots
on a lumpy grey support). One scene (:func:`draw_particle_scene`) holds, all ``(size, size)``:

* ``clean`` (float32): the noise-free image; ``labels`` (int32): instance ids, 0 background,
  1..n one per visible particle; ``mask`` (uint8): ``labels > 0``, the particles' footprint
  (projected thickness > 0) and never the support; ``boundary`` (uint8): 1 on particle pixels
  with an 8-neighbour of another particle (:func:`instance_boundary`), the 1-2 px lines a
  watershed should cut between touching particles.

What is drawn, and why (every draw from the scene's generator, so a seed fixes the scene):

* **Shapes** (:data:`SHAPE_KINDS`), one to three kinds per image because a real preparation is
  mostly of one kind: ``sphere`` (disc, thickness 2·sqrt(R² - r²)), ``ellipsoid`` (axis ratio
  0.5-0.9, the same sqrt profile), ``rod`` (a spherocylinder 2-5x longer than wide),
  ``tetrahedron`` (a regular tetrahedron on a face: a triangle whose thickness is a pyramid,
  full height at the centre, 0 at the edges -- the Au tetrahedra), ``triangle_prism`` and
  ``hexagon_prism`` (flat plates 0.1-0.4 edge thick, half of them with cut corners -- the
  nanoprisms) and ``cube`` (a square of flat thickness = edge). Each particle has a random
  in-plane orientation and a sub-pixel centre; its size is the circumscribed diameter, drawn
  around one typical size per image (log-uniform in the diameter range, default 6-80 px, with
  a 5-30 % log-normal spread, since a synthesis gives a narrow distribution).
* **Arrangement** (:data:`ARRANGEMENTS`): ``isolated`` (at least :data:`GAP_PX` background
  pixels between any two), ``aggregated`` (a few cluster seeds, then each particle is slid
  along a random ray towards a random placed particle until it touches, as the Au tetrahedra
  pack) or ``mixed``; in half of the images touching particles are pushed on by up to 30 % of
  a radius, so they overlap in projection. Coverage (the target area share of particles)
  is log-uniform in 1-50 %, from sparse to crowded, capped by ``max_particles``; a particle
  that finds no place is left out. Where two projected particles overlap the pixel goes to
  the thicker one, so the cut lies about midway through the overlap.
* **Support** (:data:`SUPPORT_KINDS`): ``vacuum``; ``carbon`` (amorphous carbon: white noise
  band-limited by a Gaussian of 0.7-4 px, a few % of the intensity); ``granular`` (an
  alumina-like support: coarser band-limited noise through an exponential, so lumps not
  ripples, strongest in ADF); and, with any but vacuum, half the time an ``uneven`` thickness
  (:func:`~dosewise.physics.background.nonlinear_background`), so that a segmenter does not
  learn a flat threshold.
* **Contrast**: bright-field is mass-thickness contrast, ``support · exp(-t / λ)``, with the
  mean free path λ set so that the typical particle's thickest point transmits 10-80 %
  (nearly black to faint; fainter particles vanish into an uneven support, and a label no
  eye can check teaches nothing); ADF is incoherent Z-contrast, linear in the thickness,
  ``ρ · support + (1 - ρ) · t / t_typ``, with the support share ρ (its signal relative to the
  typical particle peak, normalised to 1) 0.1-0.5 on a support and 1-5 % on vacuum;
  ``z_contrast = (1 - ρ) / ρ`` is the particle excess over the support. A ``patch_fraction``
  of the images give their prisms 1-k lighter patches at corners or edge midpoints
  (thickness x 0.15-0.6: still particle, still in the mask). A final Gaussian blur of
  0.5-2 px stands for defocus or the probe.

Intensities are normalised so that 1 is the bright-field support without particles and the
ADF typical particle peak: the dose per pixel multiplies that (:mod:`dosewise.physics.noise`).
What the model leaves out: Fresnel fringes at defocus, diffraction contrast (bend contours,
a crystal that Bragg-diffracts looks darker than its thickness says), and nonlinear ADF
thickness dependence (channelling); a particle hidden under a thicker one in projection
loses its label (its thickness still darkens the image).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from dosewise.errors import InvalidParameterError
from dosewise.physics.background import gaussian_blur, nonlinear_background

SHAPE_KINDS = ("sphere", "ellipsoid", "rod", "tetrahedron", "triangle_prism", "hexagon_prism", "cube")
PRISM_KINDS = ("triangle_prism", "hexagon_prism")
SUPPORT_KINDS = ("vacuum", "carbon", "granular")
ARRANGEMENTS = ("isolated", "aggregated", "mixed")
MODALITIES = ("bf", "adf")
# Background pixels kept between two isolated particles (so they never share a boundary).
GAP_PX = 2
# Attempts to place one particle before it is left out; the largest share of a new
# particle's footprint that may lie on particles already placed.
PLACEMENT_TRIES = 20
MAX_OVERLAP = 0.35
# Thin shapes (rods, flat ellipsoids) stay at least 1.5 px wide, so every particle covers pixels.
MIN_HALF_WIDTH_PX = 0.75
_COVERAGE_RANGE = (0.01, 0.5)
_FILL = 0.6  # footprint area / circumscribed disc area, roughly, over the shapes
_CORNERS = {"tetrahedron": 3, "triangle_prism": 3, "hexagon_prism": 6, "cube": 4}


@dataclass(frozen=True)
class ParticleScene:
    """One drawn field: ``clean`` (float32), ``labels`` (int32), ``mask`` and ``boundary``
    (uint8), all ``(size, size)``, and what was drawn (``metadata``, JSON-able)."""

    clean: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    boundary: np.ndarray
    metadata: dict[str, Any]


def instance_boundary(labels: np.ndarray) -> np.ndarray:
    """uint8 1 on labelled pixels that have an 8-neighbour with another non-zero label.

    Both sides of a contact are marked, so the line is 2 px wide where particles touch along
    an edge, and removing it leaves the instances apart even under 8-connectivity.
    """
    labels = np.asarray(labels)
    inside = labels > 0
    biggest = ndimage.maximum_filter(labels, size=3, mode="nearest")
    no_background = np.where(inside, labels, np.iinfo(labels.dtype).max)
    smallest = ndimage.minimum_filter(no_background, size=3, mode="nearest")
    return (inside & ((biggest != labels) | (smallest != labels))).astype(np.uint8)


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(math.log(low), math.log(high))))


def _polygon_depth(u: np.ndarray, v: np.ndarray, corners: int, radius: float,
                   truncation: float = 1.0) -> np.ndarray:
    """Distance inside a regular polygon (corners on the +u axis and every 2π/k, circumradius
    ``radius``), negative outside; ``truncation`` < 1 cuts the corners at that share of it."""
    apothem = radius * math.cos(math.pi / corners)
    depth = np.full(u.shape, np.inf)
    for j in range(corners):
        edge = math.pi / corners + 2 * math.pi * j / corners
        depth = np.minimum(depth, apothem - (u * math.cos(edge) + v * math.sin(edge)))
        if truncation < 1.0:
            corner = 2 * math.pi * j / corners
            depth = np.minimum(depth, truncation * radius - (u * math.cos(corner) + v * math.sin(corner)))
    return depth


def particle_thickness(kind: str, diameter_px: float, angle: float, rng: np.random.Generator,
                       *, pad_px: int = 0, patches: bool = False) -> np.ndarray:
    """Projected thickness (px) of one particle in a square box, centred within half a pixel
    of the box centre, with ``pad_px`` empty pixels beyond its circumscribed circle.

    ``diameter_px`` is the circumscribed diameter, ``angle`` the in-plane rotation;
    ``patches`` gives a prism lighter patches (lower thickness) at corners or edges.
    """
    radius = diameter_px / 2.0
    half = math.ceil(radius) + 1 + pad_px
    offset = rng.uniform(-0.5, 0.5, 2)
    y, x = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float64)
    y, x = y - offset[0], x - offset[1]
    u = x * math.cos(angle) + y * math.sin(angle)
    v = -x * math.sin(angle) + y * math.cos(angle)
    if kind == "sphere":
        thickness = 2.0 * np.sqrt(np.clip(radius**2 - u**2 - v**2, 0.0, None))
    elif kind == "ellipsoid":
        minor = max(radius * rng.uniform(0.5, 0.9), MIN_HALF_WIDTH_PX)
        thickness = 2.0 * minor * np.sqrt(np.clip(1.0 - (u / radius) ** 2 - (v / minor) ** 2, 0.0, None))
    elif kind == "rod":
        rod_radius = min(max(radius / rng.uniform(2.0, 5.0), MIN_HALF_WIDTH_PX), radius)
        along = np.clip(np.abs(u) - (radius - rod_radius), 0.0, None)
        thickness = 2.0 * np.sqrt(np.clip(rod_radius**2 - along**2 - v**2, 0.0, None))
    elif kind == "tetrahedron":
        edge = radius * math.sqrt(3.0)
        apothem = radius * math.cos(math.pi / 3)
        height = edge * math.sqrt(2.0 / 3.0)
        thickness = height * np.clip(_polygon_depth(u, v, 3, radius) / apothem, 0.0, None)
    elif kind in PRISM_KINDS:
        corners = _CORNERS[kind]
        edge = 2.0 * radius * math.sin(math.pi / corners)
        truncation = rng.uniform(0.7, 0.95) if rng.random() < 0.5 else 1.0
        plate = edge * rng.uniform(0.1, 0.4)
        thickness = np.where(_polygon_depth(u, v, corners, radius, truncation) > 0, plate, 0.0)
    elif kind == "cube":
        edge = radius * math.sqrt(2.0)
        thickness = np.where(_polygon_depth(u, v, 4, radius) > 0, edge, 0.0)
    else:
        raise InvalidParameterError(f"unknown particle kind {kind!r}; known: {', '.join(SHAPE_KINDS)}")
    if patches and kind in PRISM_KINDS:
        thickness = _with_patches(thickness, u, v, _CORNERS[kind], radius, rng)
    return thickness


def _with_patches(thickness: np.ndarray, u: np.ndarray, v: np.ndarray, corners: int, radius: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Thinner discs at 1..k corners or edge midpoints: a lighter patch that stays particle."""
    out = thickness.copy()
    sites = rng.permutation(corners)[: int(rng.integers(1, corners + 1))]
    for j in sites:
        at_edge = rng.random() < 0.5
        direction = 2 * math.pi * j / corners + (math.pi / corners if at_edge else 0.0)
        distance = radius * (math.cos(math.pi / corners) if at_edge else 0.85)
        cu, cv = distance * math.cos(direction), distance * math.sin(direction)
        inside = (u - cu) ** 2 + (v - cv) ** 2 < (radius * rng.uniform(0.2, 0.45)) ** 2
        out = np.where(inside, out * rng.uniform(0.15, 0.6), out)
    return out


@dataclass
class _Particle:
    kind: str
    diameter_px: float
    thickness: np.ndarray  # box (2h+1)², centre at [h, h], GAP_PX + 1 empty pixels at its rim
    foot: np.ndarray  # thickness > 0
    patched: bool

    @property
    def half(self) -> int:
        return self.thickness.shape[0] // 2

    @property
    def radius(self) -> float:
        return self.diameter_px / 2.0


class _Canvas:
    """The field as particles are placed: summed thickness, owner labels and the occupied,
    touching (1 px) and halo (:data:`GAP_PX`) layers used to test a position."""

    def __init__(self, size_px: int) -> None:
        self.size = size_px
        shape = (size_px, size_px)
        self.thickness = np.zeros(shape)
        self.owner_thickness = np.zeros(shape)
        self.labels = np.zeros(shape, np.int32)
        self.occupied = np.zeros(shape, bool)
        self.near = np.zeros(shape, bool)
        self.halo = np.zeros(shape, bool)

    def window(self, particle: _Particle, centre: np.ndarray) -> tuple[tuple[slice, slice], tuple[slice, slice]] | None:
        """(field slices, box slices) of the particle's box at ``centre``, or None if it is off the field."""
        n = particle.thickness.shape[0]
        top, left = (math.floor(c + 0.5) - particle.half for c in centre)
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + n, self.size), min(left + n, self.size)
        if y0 >= y1 or x0 >= x1:
            return None
        return (slice(y0, y1), slice(x0, x1)), (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))

    def footprint_on(self, particle: _Particle, centre: np.ndarray, layer: np.ndarray) -> tuple[int, int]:
        """(footprint pixels in the field, of them on ``layer``)."""
        window = self.window(particle, centre)
        if window is None:
            return 0, 0
        field, box = window
        foot = particle.foot[box]
        return int(np.count_nonzero(foot)), int(np.count_nonzero(foot & layer[field]))

    def add(self, particle: _Particle, centre: np.ndarray, label: int) -> None:
        window = self.window(particle, centre)
        if window is None:
            return
        field, box = window
        thickness, foot = particle.thickness[box], particle.foot[box]
        self.thickness[field] += thickness
        wins = foot & (thickness > self.owner_thickness[field])
        self.labels[field][wins] = label
        self.owner_thickness[field][wins] = thickness[wins]
        self.occupied[field] |= foot
        self.near[field] |= ndimage.maximum_filter(particle.foot, size=3)[box]
        self.halo[field] |= ndimage.maximum_filter(particle.foot, size=2 * GAP_PX + 1)[box]


def _isolated(canvas: _Canvas, particle: _Particle, rng: np.random.Generator,
              inside: bool = False) -> np.ndarray | None:
    """A centre where the particle keeps :data:`GAP_PX` from every other, or None."""
    margin = 0.0 if inside else particle.radius
    centre = rng.uniform(-margin, canvas.size - 1 + margin, 2)
    area, hits = canvas.footprint_on(particle, centre, canvas.halo)
    return centre if area > 0 and hits == 0 else None


def _touching(canvas: _Canvas, particle: _Particle, neighbour: np.ndarray, neighbour_radius: float,
              push_px: float, rng: np.random.Generator) -> np.ndarray | None:
    """Slide the particle along a random ray towards ``neighbour`` until it first touches a
    placed particle (bisection on whole-pixel steps: touching at d, free at d + 1), push it
    ``push_px`` further; None if the ray never gets free or touches, or the overlap is too big."""
    direction = rng.uniform(0, 2 * math.pi)
    unit = np.array([math.sin(direction), math.cos(direction)])

    def touches(distance: int) -> bool:
        return canvas.footprint_on(particle, neighbour + distance * unit, canvas.near)[1] > 0

    far = math.ceil(neighbour_radius + particle.radius) + 2
    for _ in range(3):
        if not touches(far):
            break
        far += math.ceil(particle.radius) + 1
    else:
        return None
    near = 0
    if not touches(near):
        return None
    while far - near > 1:
        middle = (far + near) // 2
        if touches(middle):
            near = middle
        else:
            far = middle
    centre = neighbour + (near - push_px) * unit
    area, overlap = canvas.footprint_on(particle, centre, canvas.occupied)
    if area == 0 or overlap > MAX_OVERLAP * area:
        return None
    return centre


def _draw_kinds(rng: np.random.Generator) -> list[str]:
    count = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
    return sorted(str(k) for k in rng.choice(SHAPE_KINDS, size=count, replace=False))


def _band_limited(shape: tuple[int, int], rng: np.random.Generator, grain_px: float) -> np.ndarray:
    """Zero-mean, unit-std white noise low-passed by a Gaussian of ``grain_px``."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), grain_px, mode="wrap")
    return (field - field.mean()) / max(float(field.std()), 1e-12)


def _support(size_px: int, modality: str, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    """A support signal with mean ~1 (>= 0) and what it is made of."""
    shape = (size_px, size_px)
    weights = [0.25, 0.55, 0.2] if modality == "bf" else [0.2, 0.3, 0.5]
    kind = str(rng.choice(SUPPORT_KINDS, p=weights))
    adf = modality == "adf"
    texture = np.zeros(shape)
    info: dict[str, Any] = {"support_grain_px": None, "support_strength": 0.0, "uneven_amplitude": 0.0}
    if kind == "carbon":
        grain = rng.uniform(0.7, 4.0)
        strength = rng.uniform(0.05, 0.3) if adf else rng.uniform(0.01, 0.08)
        texture = strength * _band_limited(shape, rng, grain)
        info.update(support_grain_px=grain, support_strength=strength)
    elif kind == "granular":
        grain = rng.uniform(2.0, 8.0)
        lumps = np.exp(rng.uniform(0.5, 1.5) * _band_limited(shape, rng, grain))
        strength = rng.uniform(0.15, 0.5) if adf else rng.uniform(0.03, 0.15)
        texture = strength * (lumps - lumps.mean()) / max(float(lumps.std()), 1e-12)
        info.update(support_grain_px=grain, support_strength=strength)
    name = kind
    if kind != "vacuum" and rng.random() < 0.5:
        amplitude = rng.uniform(0.1, 0.6) if adf else rng.uniform(0.05, 0.4)
        texture = texture + nonlinear_background(shape, seed=rng, amplitude=amplitude)
        info["uneven_amplitude"] = amplitude
        name += "+uneven"
    floor = 0.0 if adf else 0.05
    return np.clip(1.0 + texture, floor, None), {"support": name, **info}


def draw_particle_scene(
    size_px: int,
    rng: np.random.Generator,
    *,
    modality: str,
    diameter_range_px: tuple[float, float] = (6.0, 80.0),
    max_particles: int = 150,
    patch_fraction: float = 0.25,
    blur_range_px: tuple[float, float] = (0.5, 2.0),
) -> ParticleScene:
    """One labelled field of ``size_px``² in ``modality`` ``"bf"`` or ``"adf"`` (module docstring)."""
    if modality not in MODALITIES:
        raise InvalidParameterError(f"modality must be one of {', '.join(MODALITIES)}, got {modality!r}")
    low, high = diameter_range_px
    kinds = _draw_kinds(rng)
    typical = _log_uniform(rng, low, high)
    spread = rng.uniform(0.05, 0.3)
    coverage = _log_uniform(rng, *_COVERAGE_RANGE)
    wanted = int(np.clip(round(coverage * size_px**2 / (_FILL * math.pi * typical**2 / 4)), 1, max_particles))
    arrangement = str(rng.choice(ARRANGEMENTS, p=[0.3, 0.35, 0.35]))
    push = rng.uniform(0.0, 0.3) if rng.random() < 0.5 else 0.0
    join_share = rng.uniform(0.3, 0.8)
    n_seeds = max(1, round(wanted / _log_uniform(rng, 2.0, 20.0)))
    patchy = bool(rng.random() < patch_fraction) and any(k in PRISM_KINDS for k in kinds)

    canvas = _Canvas(size_px)
    placed: list[tuple[_Particle, np.ndarray]] = []
    for _ in range(wanted):
        kind = str(rng.choice(kinds))
        diameter = float(np.clip(typical * math.exp(rng.normal(0.0, spread)), low, high))
        patched = patchy and kind in PRISM_KINDS and bool(rng.random() < 0.7)
        thickness = particle_thickness(kind, diameter, rng.uniform(0, 2 * math.pi), rng,
                                       pad_px=GAP_PX + 1, patches=patched)
        particle = _Particle(kind, diameter, thickness, thickness > 0, patched)
        join = bool(placed) and (
            (arrangement == "aggregated" and len(placed) >= n_seeds)
            or (arrangement == "mixed" and rng.random() < join_share))
        for _ in range(PLACEMENT_TRIES):
            if join:
                other, at = placed[int(rng.integers(len(placed)))]
                centre = _touching(canvas, particle, at, other.radius, push * particle.radius * rng.random(), rng)
            else:
                centre = _isolated(canvas, particle, rng, inside=not placed)
            if centre is not None:
                placed.append((particle, centre))
                canvas.add(particle, centre, len(placed))
                break

    labels, order = _consecutive(canvas.labels)
    visible = [placed[i - 1][0] for i in order]
    boundary = instance_boundary(labels)
    support, support_info = _support(size_px, modality, rng)
    typical_peak = float(np.median([p.thickness.max() for p in visible])) if visible else 1.0
    if modality == "bf":
        transmitted = rng.uniform(0.1, 0.8)  # at the typical particle's thickest point
        mean_free_path = typical_peak / -math.log(transmitted)
        image = support * np.exp(-canvas.thickness / mean_free_path)
        contrast = {"mean_free_path_px": mean_free_path, "peak_transmission": transmitted, "z_contrast": None}
    else:
        share = rng.uniform(0.01, 0.05) if support_info["support"] == "vacuum" else rng.uniform(0.1, 0.5)
        image = share * support + (1.0 - share) * canvas.thickness / typical_peak
        contrast = {"mean_free_path_px": None, "peak_transmission": None, "z_contrast": (1.0 - share) / share}
    blur = rng.uniform(*blur_range_px)
    clean = np.clip(gaussian_blur(image.astype(np.float32), blur), 0.0, None)
    kinds_present = [p.kind for p in visible]
    metadata = {
        "modality": modality,
        "n_particles": len(visible),
        "shape_kinds": sorted(set(kinds_present)),
        "particle_kinds": kinds_present,
        "particle_diameters_px": [round(p.diameter_px, 3) for p in visible],
        "n_patched": sum(p.patched for p in visible),
        "arrangement": arrangement,
        "overlap_push": push,
        "target_coverage": coverage,
        "coverage": float((labels > 0).mean()),
        "typical_diameter_px": typical,
        **support_info,
        **contrast,
        "blur_sigma_px": blur,
        "size_px": size_px,
    }
    return ParticleScene(clean=clean.astype(np.float32), labels=labels, mask=(labels > 0).astype(np.uint8),
                         boundary=boundary, metadata=metadata)


def _consecutive(labels: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Labels renumbered 1..n in order of the old ids still present, and those old ids."""
    present = [int(v) for v in np.unique(labels) if v > 0]
    lookup = np.zeros(int(labels.max()) + 1, np.int32)
    lookup[present] = np.arange(1, len(present) + 1, dtype=np.int32)
    return lookup[labels], present
