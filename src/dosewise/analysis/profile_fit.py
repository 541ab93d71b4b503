"""Particle size, edge width and two-particle resolution from one line profile
(Katsuno et al. 2022, Figs. 6–7).

Katsuno et al. 2022 measures a nanoparticle on a line profile through it: the background
is the average level away from the particle (its dotted line), the diameter
comes from the central dip "when the shape of the nanoparticle is assumed to be
spherical", the edge width from how far the dip spreads beyond that diameter,
and two particles are distinguished when (d1 + d2)/2 < l, l being the distance
between their centres. Here the dip is fitted with the blurred projected
sphere of :mod:`dosewise.analysis.sphere`; docs/analysis.md has the formulas.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.signal import find_peaks, peak_widths

from dosewise.analysis.profile import Profile
from dosewise.analysis.profile_result import ParticleFit, Polarity, ProfileAnalysis, as_polarity
from dosewise.analysis.sphere import EDGE_10_90_PER_SIGMA, SIGMA_MIN_PX, profile_model
from dosewise.errors import InvalidParameterError

MIN_SAMPLES = 12
_HALF_DEPTH_CHORD = np.sqrt(0.75)  # a sphere's chord is half the central one at |x − x0| = R·sqrt(3)/2


def analyse_profile(
    profile: Profile,
    n_particles: int | None = None,
    polarity: Polarity | str = Polarity.dark,
    background_fraction: float = 0.15,
    smooth_px: float = 2.0,
    min_snr: float = 5.0,
) -> ProfileAnalysis:
    """Fit one or two spherical particles to ``profile`` and measure them (see the module docstring).

    - background: median of the ``background_fraction`` of samples at each end;
      noise: 1.4826 · MAD of those samples.
    - particles: with ``n_particles=None`` the dips (``polarity="dark"``, a
      bright-field particle) or peaks (``"bright"``) of the background-subtracted
      profile smoothed by a Gaussian of ``smooth_px`` whose height and
      prominence exceed ``min_snr`` times the smoothed noise (and 10 % of the
      deepest); at most the two most prominent are kept. ``n_particles=1|2``
      forces the count (an overlapping pair often shows as one dip).
    - fit: x0, R, A per particle, one σ and the background, by least squares
      (``scipy.optimize.curve_fit``); diameter = 2R with standard error 2·se(R).
    - resolution (two particles): resolved when (d1 + d2)/2 < l with
      l = |x0_2 − x0_1|; for spheres this says their projections do not overlap.
    """
    if n_particles not in (None, 1, 2):
        raise InvalidParameterError(
            f"number of particles must be 1 or 2 (or automatic), got {n_particles}"
        )
    polarity = as_polarity(polarity).value
    if not 0.0 < background_fraction < 0.5:
        raise InvalidParameterError(
            f"background fraction must lie in (0, 0.5), got {background_fraction}"
        )
    x = np.asarray(profile.distance_px, dtype=np.float64)
    y = np.asarray(profile.values, dtype=np.float64)
    if len(y) < MIN_SAMPLES:
        raise InvalidParameterError(
            f"profile has {len(y)} samples; need at least {MIN_SAMPLES} (a longer line)"
        )
    if not np.all(np.isfinite(y)):
        raise InvalidParameterError("profile contains NaN or infinite values")
    sign = 1.0 if polarity == "dark" else -1.0
    n_outer = max(3, int(round(background_fraction * len(y))))
    outer = np.concatenate([y[:n_outer], y[-n_outer:]])
    background = float(np.median(outer))
    noise = _robust_std(outer) or _robust_std(np.diff(y)) / np.sqrt(2.0)

    signal = sign * (background - y)  # > 0 inside a particle, whatever the polarity
    guesses = _initial_particles(x, signal, noise, n_particles, smooth_px, min_snr, profile, polarity)
    fit = _fit(x, y, background, sign, guesses, profile.width_px)
    return _summarise(profile, x, y, background, noise, sign, polarity, fit)


def _robust_std(values: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def _initial_particles(
    x: np.ndarray, signal: np.ndarray, noise: float, n_particles: int | None, smooth_px: float,
    min_snr: float, profile: Profile, polarity: str,
) -> list[tuple[float, float, float]]:
    """(x0, R, A) starting points from the dips of the smoothed, background-subtracted profile."""
    step = float(x[1] - x[0])
    s = max(smooth_px / step, 0.0)
    smoothed = gaussian_filter1d(signal, s) if s > 0 else signal
    noise_smoothed = noise / np.sqrt(2.0 * np.sqrt(np.pi) * s) if s >= 0.5 else noise
    threshold = max(min_snr * noise_smoothed, 0.1 * float(smoothed.max()), 1e-12)
    peaks, props = find_peaks(smoothed, height=threshold, prominence=threshold)
    if len(peaks) == 0:
        (x0, y0), (x1, y1) = profile.start_xy, profile.end_xy
        raise InvalidParameterError(
            f"no {polarity} particle on the line ({x0:g}, {y0:g}) -> ({x1:g}, {y1:g}): no "
            f"{'dip' if polarity == 'dark' else 'peak'} reaches {min_snr:g}x the background noise "
            f"({noise:.3g}); check the line, --polarity, or denoise first"
        )
    order = np.argsort(props["prominences"])[::-1]
    wanted = n_particles if n_particles is not None else min(len(peaks), 2)
    chosen = np.sort(peaks[order[: min(wanted, len(peaks))]])
    widths = peak_widths(smoothed, chosen, rel_height=0.5)[0] * step
    guesses = []
    for index, width in zip(chosen, widths, strict=True):
        radius = max(width / (2.0 * _HALF_DEPTH_CHORD), 1.0)
        guesses.append((float(x[index]), radius, float(smoothed[index]) / (2.0 * radius)))
    if wanted == 2 and len(guesses) == 1:  # one merged dip: start from two halves of it
        inside = smoothed > 0.2 * smoothed[chosen[0]]
        lo = hi = int(chosen[0])
        while lo > 0 and inside[lo - 1]:
            lo -= 1
        while hi < len(x) - 1 and inside[hi + 1]:
            hi += 1
        left, right = float(x[lo]), float(x[hi])
        quarter = max((right - left) / 4.0, 1.0)
        amplitude = guesses[0][2] * guesses[0][1] / quarter / 1.5
        guesses = [(left + quarter, quarter, amplitude), (right - quarter, quarter, amplitude)]
    return guesses


@dataclass(frozen=True)
class _Fit:
    params: np.ndarray
    cov: np.ndarray
    model: np.ndarray


def _fit(
    x: np.ndarray, y: np.ndarray, background: float, sign: float,
    guesses: list[tuple[float, float, float]], width_px: int,
) -> _Fit:
    """Least squares over (background, σ, x0_1, R_1, A_1[, x0_2, R_2, A_2])."""
    length = float(x[-1] - x[0])
    n = len(guesses)

    def model(xs: np.ndarray, background_: float, sigma: float, *rest: float) -> np.ndarray:
        particles = [tuple(rest[3 * i: 3 * i + 3]) for i in range(n)]
        return profile_model(xs, background_, sigma, particles, sign, width_px)  # type: ignore

    lower = [-np.inf, SIGMA_MIN_PX] + [x[0], 0.5, 0.0] * n
    upper = [np.inf, max(length / 4.0, 1.0)] + [x[-1], length, np.inf] * n
    best: _Fit | None = None
    for sigma0 in (1.0, 3.0):
        p0 = [background, sigma0] + [v for g in guesses for v in g]
        p0 = np.clip(p0, np.add(lower, 1e-9), np.subtract(upper, 1e-9))
        try:
            with warnings.catch_warnings():  # a singular covariance shows up as se = None instead
                warnings.simplefilter("ignore", OptimizeWarning)
                params, cov = curve_fit(
                    model, x, y, p0=p0, bounds=(lower, upper), x_scale="jac", maxfev=4000
                )
        except (RuntimeError, ValueError):
            continue
        fitted = model(x, *params)
        if best is None or np.sum((y - fitted) ** 2) < np.sum((y - best.model) ** 2):
            best = _Fit(params=params, cov=cov, model=fitted)
    if best is None:
        raise InvalidParameterError("the blurred-sphere model did not converge on this profile")
    return best


def _summarise(
    profile: Profile, x: np.ndarray, y: np.ndarray, background: float, noise: float, sign: float,
    polarity: str, fit: _Fit,
) -> ProfileAnalysis:
    params, cov = fit.params, fit.cov
    if np.all(np.isfinite(cov)):
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    else:
        se = np.full(len(params), np.nan)
    n = (len(params) - 2) // 3
    order = sorted(range(n), key=lambda i: params[2 + 3 * i])
    centres = [float(params[2 + 3 * i]) for i in order]
    particles = []
    for rank, i in enumerate(order):
        x0, radius, amplitude = params[2 + 3 * i: 5 + 3 * i]
        left_stop = centres[rank - 1] if rank > 0 else None
        right_stop = centres[rank + 1] if rank + 1 < n else None
        pseudo = _pseudo_diameter(x, sign * (background - y), float(x0), left_stop, right_stop)
        particles.append(
            ParticleFit(
                centre_px=float(x0),
                centre_se_px=float(se[2 + 3 * i]),
                diameter_px=float(2.0 * radius),
                diameter_se_px=float(2.0 * se[3 + 3 * i]),
                amplitude=float(amplitude),
                pseudo_diameter_px=pseudo,
                edge_width_paper_px=(None if pseudo is None
                                     else (pseudo - 2.0 * float(radius)) / 2.0),
            )
        )
    residual = float(np.sum((y - fit.model) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    result: dict[str, Any] = {}
    if n == 2:
        i, j = order
        gradient = np.zeros(len(params))  # l − (R1 + R2) = (x0_j − x0_i) − R_i − R_j, x0_j > x0_i
        gradient[[2 + 3 * j, 2 + 3 * i, 3 + 3 * i, 3 + 3 * j]] = [1.0, -1.0, -1.0, -1.0]
        separation = centres[1] - centres[0]
        mean_diameter = (particles[0].diameter_px + particles[1].diameter_px) / 2.0
        xi, xj = 2 + 3 * i, 2 + 3 * j
        separation_var = cov[xj, xj] + cov[xi, xi] - 2.0 * cov[xi, xj]
        result = {
            "separation_px": separation,
            "separation_se_px": float(np.sqrt(max(separation_var, 0.0))),
            "resolution_margin_px": separation - mean_diameter,
            "resolution_margin_se_px": float(np.sqrt(max(gradient @ cov @ gradient, 0.0))),
            "resolved": bool(mean_diameter < separation),
        }
    return ProfileAnalysis(
        background=background,
        background_fit=float(params[0]),
        noise_std=float(noise),
        polarity=polarity,
        sigma_px=float(params[1]),
        sigma_se_px=float(se[1]),
        edge_width_px=float(EDGE_10_90_PER_SIGMA * params[1]),
        edge_width_se_px=float(EDGE_10_90_PER_SIGMA * se[1]),
        particles=tuple(particles),
        model=fit.model,
        r2=1.0 - residual / total if total > 0 else float("nan"),
        pixel_size_A=profile.pixel_size_A,
        **result,
    )


def _pseudo_diameter(
    x: np.ndarray, signal: np.ndarray, centre: float, left_stop: float | None, right_stop: float | None
) -> float | None:
    """Katsuno et al. 2022: the distance between the background crossings of the profile either
    side of ``centre``."""
    start = int(np.clip(np.searchsorted(x, centre), 0, len(x) - 1))
    if signal[start] <= 0:
        return None
    edges = []
    for direction, stop in ((-1, left_stop), (1, right_stop)):
        i = start
        while 0 <= i + direction < len(x) and signal[i + direction] > 0:
            i += direction
        j = i + direction
        if not 0 <= j < len(x) or (stop is not None and (x[j] - stop) * direction >= 0):
            return None
        fraction = signal[i] / (signal[i] - signal[j])  # linear interpolation of the crossing
        edges.append(x[i] + fraction * (x[j] - x[i]))
    return float(edges[1] - edges[0])
