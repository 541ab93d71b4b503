"""HRTEM image formation: one abTEM multislice exit wave, then many cheap images from it.

The multislice exit wave is the expensive part (Larsen et al. 2023, Methods §2). Everything
after it -- the objective lens (defocus, Cs), the temporal-coherence envelope, the
image blur and the resampling to the detector pixel -- is a few FFTs in numpy,
so :func:`image_from_exit_wave` can be called once per image epoch on the same wave.

Arrays here are in image convention, ``[row, col] = [y, x]`` (abTEM's are ``[x, y]``;
:func:`compute_exit_wave` transposes once). The exit wave is simulated on a grid an
integer factor finer than the detector pixel, and the image is binned by that
factor, as the detector integrates over its pixels.

The multislice cell is periodic, and the lens moves contrast at spatial frequency k
sideways by up to R(k) = λk|C10 + λ²C30k²| (the gradient of χ / 2π). So the cell is
the field of view plus a margin of that delocalisation, plus the width of an atom's
contrast and of the image blur, on every side (:func:`lens_margin_A`), and the image
is cropped back to the field afterwards.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.fft
from ase import Atoms

from dosewise.config.microscope import MicroscopeParams, MicroscopeRanges
from dosewise.errors import InvalidParameterError

UM_TO_A = 1e4
# The margin covers the delocalisation of every spatial frequency at which the lens's
# damping -- temporal-coherence envelope times image blur, at the smallest focal spread
# and blur that can be drawn -- is still above this fraction (see lens_margin_A) ...
MARGIN_DAMPING = 0.1
# ... plus the half-width of one atom's in-focus contrast (its projected potential) ...
MARGIN_ATOM_A = 2.0
# ... plus this many standard deviations of the largest image blur.
MARGIN_BLUR_SIGMAS = 3.0


@dataclass(frozen=True)
class ExitWave:
    """Complex exit wave(s), ``(H, W)`` or ``(n_phonons, H, W)``, vacuum amplitude 1."""

    array: np.ndarray
    sampling_A: float
    energy_eV: float


def electron_wavelength_A(energy_eV: float) -> float:
    """Relativistic electron wavelength in Å."""
    m0c2_eV = 510998.95
    hc_eV_A = 12398.419843
    return hc_eV_A / math.sqrt(energy_eV * (2 * m0c2_eV + energy_eV))


def oversampling(pixel_size_A: float, max_sampling_A: float) -> int:
    """Smallest integer factor that makes the simulation grid at least as fine as ``max_sampling_A``."""
    if pixel_size_A <= 0 or max_sampling_A <= 0:
        raise InvalidParameterError(
            f"pixel size and sampling must be > 0 Å, got {pixel_size_A} and {max_sampling_A}"
        )
    return max(1, math.ceil(pixel_size_A / max_sampling_A - 1e-9))


def compute_exit_wave(
    atoms: Atoms,
    *,
    sampling_A: float,
    energy_eV: float = 300e3,
    seed: int | np.random.SeedSequence | np.random.Generator | None = None,
    slice_thickness_A: float = 2.0,
    frozen_phonons: int = 0,
    phonon_sigma_A: float = 0.1,
) -> ExitWave:
    """Plane-wave multislice through ``atoms`` (abTEM); the grid is the cell divided by ``sampling_A``.

    ``frozen_phonons`` > 0 returns that many exit waves of randomly displaced atoms
    (rms ``phonon_sigma_A``), whose images are averaged incoherently. Computed with
    dask's synchronous scheduler: abTEM's default threaded one was ~20x slower on 2 cores.
    Bit-identical for the same inputs in any process (see the FFT note below).
    """
    import abtem

    extent = atoms.cell.lengths()[:2]
    gpts = tuple(int(round(e / sampling_A)) for e in extent)
    if gpts[0] != gpts[1] or abs(extent[0] - extent[1]) > 1e-6:
        raise InvalidParameterError(f"the cell must be square laterally, got {extent[0]} x {extent[1]} Å")
    if frozen_phonons > 0:
        phonon_seed = int(np.random.default_rng(seed).integers(2**31 - 1))
        source = abtem.FrozenPhonons(atoms, num_configs=frozen_phonons, sigmas=phonon_sigma_A,
                                     ensemble_mean=False, seed=phonon_seed)
    else:
        source = atoms
    potential = abtem.Potential(source, gpts=gpts, slice_thickness=slice_thickness_A)
    # numpy's FFT, not abTEM's default FFTW: FFTW_MEASURE times candidate plans, so two
    # processes can pick different plans and differ in the last bit -- enough to change a
    # Poisson draw, and a resumed or parallel run must give exactly the same samples.
    with abtem.config.set({"fft": "numpy"}), warnings.catch_warnings():
        # We want the individual configurations: their images are averaged after the lens.
        warnings.filterwarnings("ignore", message="ensemble_mean=False", category=UserWarning)
        waves = abtem.PlaneWave(energy=energy_eV).multislice(potential)
        array = np.asarray(waves.compute(scheduler="synchronous", progress_bar=False).array)
    return ExitWave(array=np.ascontiguousarray(np.swapaxes(array, -1, -2)),
                    sampling_A=float(extent[0] / gpts[0]), energy_eV=float(energy_eV))


def antialias_cutoff(sampling_A: float) -> float:
    """Highest spatial frequency (1/Å) in the exit wave: abTEM's aperture at 2/3 of Nyquist."""
    return 2.0 / 3.0 / (2.0 * sampling_A)


def lens_margin_A(
    optics: MicroscopeRanges | MicroscopeParams, sampling_A: float, *, damping: float = MARGIN_DAMPING
) -> float:
    """Margin (Å) that keeps the periodic cell's edge out of the image for any optics in ``optics``.

    The largest lens delocalisation plus how far one atom's contrast reaches:
    ``max R(k) + MARGIN_ATOM_A + MARGIN_BLUR_SIGMAS * largest blur``.

    R(k) = λk|C10 + λ²C30k²| is the lateral shift of contrast at spatial frequency k
    (C10 = -defocus_A, C30 = cs_um·1e4 Å), for an exit wave at ``sampling_A``. It is
    maximised over the corners of the defocus and Cs ranges (R is convex in them) and
    over 0 <= k <= k_max, where k_max is the smaller of the exit wave's anti-aliasing
    cutoff and the frequency at which exp(-(πλσk²)²/2)·exp(-2π²b²k²) -- temporal
    envelope and blur, at the smallest focal spread σ and blur b -- falls to
    ``damping``: contrast that would be delocalised further is damped below that
    fraction of its in-focus amplitude.
    """
    if sampling_A <= 0 or not 0 < damping < 1:
        raise InvalidParameterError(f"need sampling > 0 Å and 0 < damping < 1, got {sampling_A}, {damping}")
    if isinstance(optics, MicroscopeParams):
        defocus = (optics.defocus_A, optics.defocus_A)
        cs = (optics.cs_um, optics.cs_um)
        sigma, blur, max_blur = optics.focal_spread_A, optics.blur_A, optics.blur_A
    else:
        defocus, cs = optics.defocus_A, optics.cs_um
        sigma, blur, max_blur = optics.focal_spread_A[0], optics.blur_A[0], optics.blur_A[1]
    wavelength = electron_wavelength_A(optics.energy_eV)
    # Damping exp(-(a u² + b u)) with u = k²: solve a u² + b u = ln(1 / damping).
    a = 0.5 * (math.pi * wavelength * sigma) ** 2
    b = 2 * math.pi**2 * blur**2
    log_damping = math.log(1.0 / damping)
    if a > 0:
        u = (-b + math.sqrt(b * b + 4 * a * log_damping)) / (2 * a)
    elif b > 0:
        u = log_damping / b
    else:
        u = math.inf
    k_max = min(antialias_cutoff(sampling_A), math.sqrt(u))
    k = np.linspace(0.0, k_max, 2049)
    shifts = [
        wavelength * k * np.abs(-d + wavelength**2 * c * UM_TO_A * k**2) for d in defocus for c in cs
    ]
    return float(np.max(shifts)) + MARGIN_ATOM_A + MARGIN_BLUR_SIGMAS * max_blur


def _spatial_frequencies(shape: tuple[int, int], sampling_A: float, *, half: bool = False) -> np.ndarray:
    """|k|² in 1/Å² on the FFT grid (``half``: the ``rfft2`` half-plane)."""
    ky = np.fft.fftfreq(shape[0], d=sampling_A)[:, None]
    kx = (np.fft.rfftfreq if half else np.fft.fftfreq)(shape[1], d=sampling_A)[None, :]
    return ky**2 + kx**2


def lens_transfer(shape: tuple[int, int], sampling_A: float, microscope: MicroscopeParams) -> np.ndarray:
    """Objective-lens transfer exp(-i chi(k)) * E_t(k) on the FFT grid (abTEM's conventions).

    chi = pi λ C10 k² + pi/2 λ³ C30 k⁴ with C10 = -defocus_A and C30 = Cs; the
    temporal envelope for a Gaussian defocus spread of standard deviation sigma is
    exp(-(pi λ sigma k²)² / 2), i.e. abTEM's with its 1/e width = sqrt(2) sigma.
    """
    wavelength = electron_wavelength_A(microscope.energy_eV)
    k2 = _spatial_frequencies(shape, sampling_A)
    c10 = -microscope.defocus_A
    c30 = microscope.cs_um * UM_TO_A
    chi = math.pi * wavelength * c10 * k2 + 0.5 * math.pi * wavelength**3 * c30 * k2**2
    envelope = np.exp(-0.5 * (math.pi * wavelength * microscope.focal_spread_A * k2) ** 2)
    return (np.exp(-1j * chi) * envelope).astype(np.complex64)


def _bin(image: np.ndarray, factor: int) -> np.ndarray:
    h, w = image.shape
    return image.reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))


def binning_factor(wave_shape: tuple[int, int], sampling_A: float, pixel_size_A: float,
                   out_shape: tuple[int, int]) -> int:
    """The integer factor between the exit-wave grid and the detector grid, or an error."""
    factor = int(round(pixel_size_A / sampling_A))
    if (
        factor < 1
        or abs(factor * sampling_A - pixel_size_A) > 1e-6 * pixel_size_A
        or tuple(wave_shape) != (out_shape[0] * factor, out_shape[1] * factor)
    ):
        raise InvalidParameterError(
            f"exit wave {tuple(wave_shape)} at {sampling_A:.5g} Å does not bin to {tuple(out_shape)} "
            f"pixels of {pixel_size_A:.5g} Å (needs an integer factor on the same field of view)"
        )
    return factor


def pixel_origin_A(sampling_A: float, pixel_size_A: float) -> float:
    """Position (Å) of the centre of detector pixel 0 after binning samples taken at 0, s, 2s, ..."""
    return 0.5 * (pixel_size_A - sampling_A)


def image_from_exit_wave(
    exit_wave: np.ndarray,
    sampling_A: float,
    microscope: MicroscopeParams,
    pixel_size_A: float,
    out_shape: tuple[int, int],
) -> np.ndarray:
    """Clean intensity (float32, vacuum ≈ 1) on ``out_shape`` pixels of ``pixel_size_A``.

    Lens and temporal envelope act on the wave; the intensity of each frozen-phonon
    configuration is averaged; the blur (Gaussian, standard deviation ``blur_A``)
    acts on the intensity; the result is binned to the detector pixel.
    """
    waves = np.asarray(exit_wave, dtype=np.complex64)
    if waves.ndim == 2:
        waves = waves[None]
    shape = waves.shape[-2:]
    factor = binning_factor(shape, sampling_A, pixel_size_A, out_shape)
    transfer = lens_transfer(shape, sampling_A, microscope)
    imaged = scipy.fft.ifft2(scipy.fft.fft2(waves, axes=(-2, -1)) * transfer, axes=(-2, -1))
    intensity = (imaged.real**2 + imaged.imag**2).mean(axis=0)
    if microscope.blur_A > 0:
        k2 = _spatial_frequencies(shape, sampling_A, half=True)
        blur = np.exp(-2 * math.pi**2 * microscope.blur_A**2 * k2).astype(np.float32)
        intensity = scipy.fft.irfft2(scipy.fft.rfft2(intensity) * blur, s=shape)
    return _bin(intensity, factor).astype(np.float32)
