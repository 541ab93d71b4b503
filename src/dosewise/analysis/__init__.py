"""Measurements on images: line profiles through particles (Katsuno et al. 2022).

``line_profile`` samples an image between two points, averaged across a band;
``analyse_profile`` fits blurred projected spheres to it and reports the
background, each particle's diameter, the edge width and, for two particles,
whether they are resolved ((d1 + d2)/2 < l).
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
