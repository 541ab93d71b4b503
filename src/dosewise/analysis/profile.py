"""Intensity along a line between two image points, averaged across a band
(Katsuno et al. 2022, Figs. 6–7).

Points are (x, y) in pixels with x the column and y the row, as an image viewer
shows them; :func:`skimage.measure.profile_line` wants (row, col), and the swap
happens here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from skimage.measure import profile_line

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.image import EMImage
from dosewise.units import A_to_nm, check_pixel_size_A


@dataclass(frozen=True)
class Profile:
    """Samples of one line profile.

    ``values[i]`` is the mean intensity across ``width_px`` pixels perpendicular to
    the line at ``distance_px[i]`` from the start point; the samples are evenly
    spaced (at most 1 px apart) and include both end points. ``x_px``/``y_px`` are
    the sample positions on the image (column, row).
    """

    distance_px: np.ndarray
    values: np.ndarray
    x_px: np.ndarray
    y_px: np.ndarray
    start_xy: tuple[float, float]
    end_xy: tuple[float, float]
    width_px: int = 1
    pixel_size_A: float | None = None

    @property
    def length_px(self) -> float:
        return float(self.distance_px[-1])

    @property
    def step_px(self) -> float:
        """Distance between neighbouring samples (≤ 1 px: skimage samples ceil(length) + 1 points)."""
        return self.length_px / (len(self.values) - 1)

    @property
    def distance_nm(self) -> np.ndarray | None:
        """Distances in nm, or ``None`` when the pixel size is unknown."""
        if self.pixel_size_A is None:
            return None
        return self.distance_px * A_to_nm(self.pixel_size_A)


def line_profile(
    image: np.ndarray | EMImage,
    start_xy: Sequence[float],
    end_xy: Sequence[float],
    width_px: int = 1,
    order: int = 1,
    pixel_size_A: float | None = None,
) -> Profile:
    """Sample ``image`` from ``start_xy`` to ``end_xy`` (pixels, x = column), averaging ``width_px`` across.

    Averaging w pixels perpendicular to the line divides uncorrelated noise by
    about sqrt(w) without blurring along the line, which is what a diameter and
    an edge width are measured along. ``order`` is the spline interpolation
    order (1 = bilinear). Both points must lie inside the image (pixel centres
    span 0..W−1, 0..H−1); the averaging band may reach past the border, where
    the image is mirrored. An :class:`EMImage` brings its pixel size unless
    ``pixel_size_A`` is given.
    """
    if isinstance(image, EMImage):
        pixel_size_A = image.pixel_size_A if pixel_size_A is None else pixel_size_A
        data = image.data
    else:
        data = np.asarray(image)
    if data.ndim != 2:
        raise InvalidImageError(f"line profiles need one 2-D image, got shape {data.shape}")
    if int(width_px) != width_px or width_px < 1:
        raise InvalidParameterError(f"profile width must be a whole number of pixels >= 1, got {width_px}")
    if order not in range(6):
        raise InvalidParameterError(f"interpolation order must be 0..5, got {order}")
    if pixel_size_A is not None:
        check_pixel_size_A(pixel_size_A)
    start = _checked_point(start_xy, data.shape, "start")
    end = _checked_point(end_xy, data.shape, "end")
    if np.hypot(end[0] - start[0], end[1] - start[1]) < 1.0:
        raise InvalidParameterError(f"start {start} and end {end} are less than 1 px apart; need a line")
    values = profile_line(
        data.astype(np.float64, copy=False),
        (start[1], start[0]),  # (row, col)
        (end[1], end[0]),
        linewidth=int(width_px),
        order=order,
        mode="reflect",
        reduce_func=np.mean,
    )
    n = len(values)
    length = float(np.hypot(end[0] - start[0], end[1] - start[1]))
    return Profile(
        distance_px=np.linspace(0.0, length, n),
        values=np.asarray(values, dtype=np.float64),
        x_px=np.linspace(start[0], end[0], n),
        y_px=np.linspace(start[1], end[1], n),
        start_xy=start,
        end_xy=end,
        width_px=int(width_px),
        pixel_size_A=float(pixel_size_A) if pixel_size_A is not None else None,
    )


def _checked_point(point: Sequence[float], shape: tuple[int, ...], name: str) -> tuple[float, float]:
    if len(point) != 2:
        raise InvalidParameterError(f"{name} point must be (x, y), got {tuple(point)}")
    x, y = (float(v) for v in point)
    height, width = shape
    if not (np.isfinite(x) and np.isfinite(y) and 0 <= x <= width - 1 and 0 <= y <= height - 1):
        raise InvalidParameterError(
            f"{name} point ({x:g}, {y:g}) is outside the {width}x{height} image "
            f"(x must lie in 0..{width - 1}, y in 0..{height - 1})"
        )
    return (x, y)
