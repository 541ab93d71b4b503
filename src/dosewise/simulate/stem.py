"""ADF-STEM images with TEMImageNet-style labels, in the incoherent linear imaging model.

An annular dark-field detector sums electrons scattered to high angles, which is to a
good approximation incoherent: the image is the probe intensity convolved with an object
function, I(r) = |ψ_probe|²(r) ⊗ O(r). O is a sum over projected atom columns, each a
narrow Gaussian (thermal vibration and the width of the ADF object) weighted by the sum
of Z**n of its atoms, n drawn in 1.6..2.0 (Rutherford-like scattering, screened). This is
~1000x cheaper than multislice (abTEM PRISM) -- a few FFTs per image -- so thousands of
labelled images can be made on a CPU; it neglects channelling, probe spreading with
thickness and cross-talk between columns, so column intensity is simply linear in Z**n.

One sample (:func:`stem_sample`), on a square field of ``size_px`` pixels:

* ``clean``: probe ⊗ object, max 1; ``superres``: the object seen through a probe of
  half the width, max 1; ``noise_free``: clean + a smooth background;
* ``noisy``: Poisson(dose_e_per_px · gain_row · scan-jittered noise_free) / dose_e_per_px;
* ``mask``: uint8 disks at the columns whose weight is >= ``mask_min_relative_weight``
  of the brightest column kind.

Rendering is exact point sampling (a STEM scan samples the continuous image at the probe
positions): the object is drawn on a grid ``oversample`` times finer than the pixel, fine
enough that the probe's band and the Gaussians' aliasing are resolved, convolved by FFT
and read at every ``oversample``-th point. The FFTs are periodic, so the grid holds a
margin (probe delocalisation + 5 Å) of crystal around the field, cropped afterwards.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.fft
from scipy.ndimage import map_coordinates

from dosewise.config.microscope import StemRanges
from dosewise.physics.background import linear_background, nonlinear_background
from dosewise.physics.noise import shot_noise
from dosewise.simulate.hrtem import UM_TO_A, electron_wavelength_A
from dosewise.simulate.stem_crystals import PlacedColumns, Zone, place_columns, projected_crystal, zone_name
from dosewise.units import dose_e_per_px

BACKGROUND_KINDS = ("linear", "nonlinear", "linear+nonlinear")
# Extra margin (Å) beyond the probe's geometric radius: diffraction tails and atom width.
MARGIN_TAIL_A = 5.0
# Gaussian atoms are drawn out to this many standard deviations.
ATOM_EXTENT_SIGMAS = 4.0


@dataclass(frozen=True)
class Probe:
    """A STEM probe: aperture semi-angle and round aberrations (conventions of microscope.py)."""

    energy_eV: float
    semiangle_mrad: float
    defocus_A: float
    cs_um: float

    @property
    def aperture_k(self) -> float:
        """Aperture radius in spatial frequency (1/Å): alpha / lambda."""
        return self.semiangle_mrad * 1e-3 / electron_wavelength_A(self.energy_eV)

    def geometric_radius_A(self) -> float:
        """Largest ray displacement inside the aperture, max λk|C10 + λ²C30k²| (probe spread)."""
        wavelength = electron_wavelength_A(self.energy_eV)
        k = np.linspace(0.0, self.aperture_k, 513)
        c10, c30 = -self.defocus_A, self.cs_um * UM_TO_A
        return float(np.max(wavelength * k * np.abs(c10 + wavelength**2 * c30 * k**2)))


def probe_otf(shape: tuple[int, int], sampling_A: float, probe: Probe, *, width: float = 1.0) -> np.ndarray:
    """rfft2 half-plane of the probe intensity |ψ|² (its sum normalised to 1) on a periodic grid.

    ψ = IFFT[A(k) exp(-iχ(k))], A the aperture (edge anti-aliased over one frequency
    step), χ = πλC10k² + ½πλ³C30k⁴. ``width`` scales the probe in real space,
    ψ_w(r) ∝ ψ(r / w): the pupil is evaluated at w·k, so ``width=0.5`` gives a probe of
    half the size with the same shape (twice the aperture, the same phase at its edge).
    """
    wavelength = electron_wavelength_A(probe.energy_eV)
    ky = np.fft.fftfreq(shape[0], d=sampling_A)[:, None]
    kx = np.fft.fftfreq(shape[1], d=sampling_A)[None, :]
    k = np.sqrt(ky**2 + kx**2) * width
    dk = width / (max(shape) * sampling_A)
    aperture = np.clip((probe.aperture_k - k) / dk + 0.5, 0.0, 1.0)
    k2 = k**2
    c10, c30 = -probe.defocus_A, probe.cs_um * UM_TO_A
    chi = math.pi * wavelength * c10 * k2 + 0.5 * math.pi * wavelength**3 * c30 * k2**2
    psi = scipy.fft.ifft2((aperture * np.exp(-1j * chi)).astype(np.complex64))
    intensity = psi.real**2 + psi.imag**2
    otf = scipy.fft.rfft2(intensity / intensity.sum())
    return otf.astype(np.complex64)


def oversampling_factor(pixel_size_A: float, probe: Probe, atom_sigma_A: float) -> int:
    """Smallest 5-smooth integer f with fine sampling s = pixel/f such that the half-width
    probe's band (4·alpha/λ) is below Nyquist and the sampled Gaussians alias < 1e-3 into that
    band. 5-smooth (2^a 3^b 5^c) so that a fast FFT length that is a multiple of f exists
    (:func:`crystal_margin_px`); a factor of 7 or more never gives one."""
    band = 4.0 * probe.aperture_k
    needed = max(2.0 * band, band + 0.6 / atom_sigma_A)  # 1/s; exp(-2π²σ²(0.6/σ)²) < 1e-3
    factor = max(1, math.ceil(pixel_size_A * needed - 1e-9))
    while scipy.fft.next_fast_len(factor, real=True) != factor:
        factor += 1
    return factor


def crystal_margin_px(pixel_size_A: float, probe: Probe, oversample: int, size_px: int) -> int:
    """Pixels of crystal around the field (probe spread + tails), grown to a fast FFT length."""
    margin = math.ceil((probe.geometric_radius_A() + MARGIN_TAIL_A) / pixel_size_A)
    while True:
        grid = oversample * (size_px + 2 * margin)
        if scipy.fft.next_fast_len(grid, real=True) == grid:
            return margin
        margin += 1


def render_object(columns: PlacedColumns, weights: np.ndarray, *, grid: int, sampling_A: float,
                  origin_A: float, atom_sigma_A: float) -> np.ndarray:
    """Sum of unit-integral Gaussians (``weights[kind]`` each) sampled on a grid x grid array
    whose point [i, j] is at (x, y) = (origin_A + j s, origin_A + i s)."""
    half = math.ceil(ATOM_EXTENT_SIGMAS * atom_sigma_A / sampling_A)
    offsets = np.arange(-half, half + 2)

    def axis(position_A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = (position_A - origin_A) / sampling_A
        index = np.floor(u).astype(np.int64)[:, None] + offsets[None, :]
        profile = np.exp(-0.5 * ((index - u[:, None]) * (sampling_A / atom_sigma_A)) ** 2)
        profile[(index < 0) | (index >= grid)] = 0.0
        return np.clip(index, 0, grid - 1), profile

    ix, gx = axis(columns.x_A)
    iy, gy = axis(columns.y_A)
    norm = sampling_A**2 / (2.0 * math.pi * atom_sigma_A**2)
    amplitude = weights[columns.kind] * norm
    values = amplitude[:, None, None] * gy[:, :, None] * gx[:, None, :]
    flat = iy[:, :, None] * grid + ix[:, None, :]
    return np.bincount(flat.ravel(), weights=values.ravel(), minlength=grid * grid).reshape(grid, grid)


def disk_mask(x_A: np.ndarray, y_A: np.ndarray, *, radius_A: float, pixel_size_A: float,
              size_px: int) -> np.ndarray:
    """uint8 mask: pixel [i, j] (centre at x = j·pixel, y = i·pixel) within ``radius_A`` of a column."""
    mask = np.zeros((size_px, size_px), dtype=np.uint8)
    half = math.ceil(radius_A / pixel_size_A) + 1
    offsets = np.arange(-half, half + 1)
    cx = np.round(x_A / pixel_size_A).astype(np.int64)[:, None] + offsets[None, :]
    cy = np.round(y_A / pixel_size_A).astype(np.int64)[:, None] + offsets[None, :]
    inside = ((cy[:, :, None] * pixel_size_A - y_A[:, None, None]) ** 2
              + (cx[:, None, :] * pixel_size_A - x_A[:, None, None]) ** 2) <= radius_A**2
    inside &= ((cy >= 0) & (cy < size_px))[:, :, None] & ((cx >= 0) & (cx < size_px))[:, None, :]
    rows = np.broadcast_to(cy[:, :, None], inside.shape)[inside]
    cols = np.broadcast_to(cx[:, None, :], inside.shape)[inside]
    mask[rows, cols] = 1
    return mask


@dataclass(frozen=True)
class Scene:
    """Everything drawn for one image except its noise (the labels depend on this only)."""

    material: str
    zone: Zone
    pixel_size_A: float
    rotation_deg: float
    offset_frac: tuple[float, float]
    z_exponent: float
    atom_sigma_A: float
    probe: Probe
    background_kind: str
    background_ptp: float
    background_offset: float

    def metadata(self) -> dict[str, Any]:
        values = asdict(self)
        values.update(values.pop("probe"))
        values["zone_axis"] = zone_name(values.pop("zone"))
        values["offset_frac"] = list(self.offset_frac)
        return values


def draw_scene(ranges: StemRanges, materials: list[tuple[str, Zone]], rng: np.random.Generator) -> Scene:
    """One image's crystal, orientation, optics and background: material uniform among the
    chosen ones, then zone axis uniform among its chosen zones."""
    names = sorted({m for m, _ in materials}, key=[m for m, _ in materials].index)
    material = names[int(rng.integers(len(names)))]
    zones = [z for m, z in materials if m == material]
    zone = zones[int(rng.integers(len(zones)))]

    def uniform(name: str) -> float:
        return float(rng.uniform(*getattr(ranges, name)))

    return Scene(
        material=material,
        zone=zone,
        pixel_size_A=uniform("pixel_size_A"),
        rotation_deg=float(rng.uniform(0.0, 360.0)),
        offset_frac=(float(rng.uniform()), float(rng.uniform())),
        z_exponent=uniform("z_exponent"),
        atom_sigma_A=uniform("atom_sigma_A"),
        probe=Probe(energy_eV=float(ranges.energies_eV[int(rng.integers(len(ranges.energies_eV)))]),
                    semiangle_mrad=uniform("semiangle_mrad"), defocus_A=uniform("defocus_A"),
                    cs_um=uniform("cs_um")),
        background_kind=BACKGROUND_KINDS[int(rng.integers(len(BACKGROUND_KINDS)))],
        background_ptp=uniform("background_ptp"),
        background_offset=uniform("background_offset"),
    )


def make_background(shape: tuple[int, int], scene: Scene, rng: np.random.Generator) -> np.ndarray:
    """A smooth background >= 0: zero-mean field(s) from dosewise.physics, peak-to-peak
    ``background_ptp``, lifted so that its minimum is ``background_offset``."""
    field = np.zeros(shape, dtype=np.float64)
    if "linear" in scene.background_kind.split("+"):
        field += linear_background(shape, seed=rng, amplitude=1.0)
    if "nonlinear" in scene.background_kind.split("+"):
        field += nonlinear_background(shape, seed=rng, amplitude=1.0, n_blobs=int(rng.integers(2, 7)))
    span = float(np.ptp(field))
    field = field * (scene.background_ptp / span if span > 0 else 0.0)
    return (field - field.min() + scene.background_offset).astype(np.float32)


@dataclass(frozen=True)
class StemSample:
    arrays: dict[str, np.ndarray]
    metadata: dict[str, Any]


def _shift_rows(rows: np.ndarray, shift_A: np.ndarray, sampling_A: float) -> np.ndarray:
    """Each row resampled at x + shift (Fourier shift: exact for the band-limited image)."""
    k = scipy.fft.rfftfreq(rows.shape[1], d=sampling_A)
    phase = np.exp(2j * math.pi * shift_A[:, None] * k[None, :])
    return scipy.fft.irfft(scipy.fft.rfft(rows, axis=1) * phase, n=rows.shape[1], axis=1)


def stem_sample(
    ranges: StemRanges,
    materials: list[tuple[str, Zone]],
    *,
    size_px: int,
    scene_rng: np.random.Generator,
    noise_rng: np.random.Generator,
    mask_radius_A: float = 0.5,
    mask_min_relative_weight: float = 0.1,
) -> StemSample:
    """One labelled image: scene (crystal, probe, background) from ``scene_rng``, dose and
    scan + shot noise from ``noise_rng``, so the labels do not depend on the noise draws."""
    scene = draw_scene(ranges, materials, scene_rng)
    px, probe = scene.pixel_size_A, scene.probe
    f = oversampling_factor(px, probe, scene.atom_sigma_A)
    margin = crystal_margin_px(px, probe, f, size_px)
    grid, s = f * (size_px + 2 * margin), px / f
    origin_A = -margin * px
    crystal = projected_crystal(scene.material, scene.zone)
    weights = crystal.weights(scene.z_exponent)
    extent = ATOM_EXTENT_SIGMAS * scene.atom_sigma_A
    columns = place_columns(crystal, rotation_rad=math.radians(scene.rotation_deg),
                            offset_frac=scene.offset_frac, low_A=origin_A - extent,
                            high_A=origin_A + grid * s + extent)
    spectrum = scipy.fft.rfft2(render_object(columns, weights, grid=grid, sampling_A=s, origin_A=origin_A,
                                             atom_sigma_A=scene.atom_sigma_A).astype(np.float32))
    field = slice(f * margin, f * (margin + size_px), f)
    fine_clean = scipy.fft.irfft2(spectrum * probe_otf((grid, grid), s, probe), s=(grid, grid))
    sharp_otf = probe_otf((grid, grid), s, probe, width=0.5)
    superres = scipy.fft.irfft2(spectrum * sharp_otf, s=(grid, grid))[field, field]
    clean_scale = float(fine_clean[field, field].max())
    superres_scale = float(superres.max())
    clean = fine_clean[field, field] / clean_scale
    background = make_background((size_px, size_px), scene, scene_rng)

    # Noise: dose, scan distortions (per line: horizontal offset, beam-current flicker), shots.
    dose_A2 = float(np.exp(noise_rng.uniform(*np.log(ranges.dose_e_per_A2))))
    dose_px = dose_e_per_px(dose_A2, px)
    jitter_px = float(noise_rng.uniform(*ranges.scan_jitter_px))
    flicker = float(noise_rng.uniform(*ranges.scan_flicker))
    shift_px = noise_rng.normal(0.0, jitter_px, size_px) if jitter_px > 0 else np.zeros(size_px)
    gain = np.ones(size_px)
    if flicker > 0:
        gain = np.clip(1.0 + noise_rng.normal(0.0, flicker, size_px), 0.0, None)
    jittered = _shift_rows(fine_clean[field, :], shift_px * px, s)[:, field] / clean_scale
    rows, cols = np.meshgrid(np.arange(size_px), np.arange(size_px), indexing="ij")
    jittered += map_coordinates(background, [rows, cols + shift_px[:, None]], order=1, mode="nearest")
    noisy = shot_noise(gain[:, None] * jittered, dose_px, noise_rng) / dose_px

    visible = np.isin(columns.kind, np.flatnonzero(weights >= mask_min_relative_weight * weights.max()))
    mask = disk_mask(columns.x_A[visible], columns.y_A[visible], radius_A=mask_radius_A, pixel_size_A=px,
                     size_px=size_px)
    n_field = int(np.sum((columns.x_A >= -0.5 * px) & (columns.x_A < (size_px - 0.5) * px)
                         & (columns.y_A >= -0.5 * px) & (columns.y_A < (size_px - 0.5) * px)))
    arrays = {
        "noisy": noisy.astype(np.float32),
        "noise_free": (clean + background).astype(np.float32),
        "clean": clean.astype(np.float32),
        "superres": (superres / superres_scale).astype(np.float32),
        "mask": mask,
    }
    metadata = {
        **scene.metadata(),
        "size_px": size_px,
        "dose_e_per_A2": dose_A2,
        "dose_e_per_px": dose_px,
        "scan_jitter_px": jitter_px,
        "scan_flicker": flicker,
        "oversample": f,
        "margin_px": margin,
        "n_columns": n_field,
        "clean_scale": clean_scale,
        "superres_scale": superres_scale,
        "mask_radius_A": mask_radius_A,
    }
    return StemSample(arrays=arrays, metadata=metadata)
