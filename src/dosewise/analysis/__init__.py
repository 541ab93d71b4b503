"""Measurements on images and masks, with no network in sight.

- particles (:mod:`~dosewise.analysis.particles`): sizes and centroids of mask regions;
- line profiles (Katsuno et al. 2022): ``line_profile`` samples an image between two
  points, averaged across a band; ``analyse_profile`` fits blurred projected spheres
  and reports the background, each diameter, the edge width and, for two particles,
  whether they are resolved ((d1 + d2)/2 < l);
- dose series and sweeps (Larsen et al. 2023): segmented area and F1 against dose, the
  50 % and convergence doses (:mod:`~dosewise.analysis.dose_sweep`);
- partial-scan baselines and the supersampling tables of Ede 2020
  (:mod:`~dosewise.analysis.interpolation`, :mod:`~dosewise.analysis.supersample_eval`).
"""

from dosewise.analysis.profile import Profile, line_profile
from dosewise.analysis.profile_fit import analyse_profile
from dosewise.analysis.profile_result import ParticleFit, Polarity, ProfileAnalysis
from dosewise.analysis.sphere import EDGE_10_90_PER_SIGMA, blurred_thickness, projected_thickness

__all__ = [
    "EDGE_10_90_PER_SIGMA",
    "ParticleFit",
    "Polarity",
    "Profile",
    "ProfileAnalysis",
    "analyse_profile",
    "blurred_thickness",
    "line_profile",
    "projected_thickness",
]
