"""Simulation recipes: everything that decides a simulated data set, one model per simulator.

:class:`HrtemDatasetConfig` (:func:`~dosewise.simulate.simulate_hrtem_dataset`),
:class:`DoseSeriesConfig` (:func:`~dosewise.simulate.simulate_dose_series`) and
:class:`StemDatasetConfig` (:func:`~dosewise.simulate.simulate_stem_dataset`) and
:class:`ParticleDatasetConfig` (:func:`~dosewise.simulate.simulate_particle_dataset`) hold every
physical parameter; how to *run* (output path, workers, progress bar, exit-wave cache)
stays an argument of the function. ``dosewise simulate`` takes its option defaults from
these models, so the command line and the Python API share one set of defaults and refuse
the same values with the same one-line message (:meth:`Recipe.validate_dict`).

The defaults are the command line's: a 256 px field at 0.25 Å/px (64 Å) holds a whole
15-50 Å particle and trains on a CPU; seed 003's Table 1 pixel size, 0.07-0.08 Å/px, is a
``pixel_size_A=(0.07, 0.08)`` away.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import (
    AfterValidator,
    Field,
    SerializationInfo,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dosewise.config.base import Recipe
from dosewise.config.choices import ParticleModality
from dosewise.config.microscope import MicroscopeParams, MicroscopeRanges, StemRanges
from dosewise.errors import DosewiseError, describe_validation_error

Range = tuple[float, float]
# Readout noise for a fixed detector (seed 003, Fig. 6: fitted N0 = 0.01 e-/px).
DEFAULT_N0_E_PER_PX = 0.01
# The smallest STEM field the renderer handles (probe margin and oversampling).
STEM_MIN_SIZE_PX = 8
# The smallest nanoparticle field, and the smallest particle that still has a shape (px).
PARTICLE_MIN_SIZE_PX = 16
PARTICLE_MIN_DIAMETER_PX = 3.0
# The HRTEM field of view (Å): below the smallest the capped particle has too few atoms to outline;
# above the largest the exit-wave grid (max_sampling_A, default 0.1 Å) outgrows a workstation's memory.
HRTEM_FIELD_RANGE_A = (12.0, 1000.0)
# Coarser HRTEM pixels cannot sample the Au lattice (d111 = 2.35 Å) at all.
HRTEM_MAX_PIXEL_SIZE_A = 2.0
# The pydantic error type of a count below 1; the command line reports it under its flag.
COUNT_ERROR = "count"
# Drawn ranges that a recipe sets with its own top-level fields, not inside the ranges.
_TOP_LEVEL_RANGES = frozenset({"dose_e_per_A2", "pixel_size_A"})


# --- checks shared by the recipes ----------------------------------------------------------


def _count(value: int, info: ValidationInfo) -> int:
    if value < 1:
        raise PydanticCustomError(COUNT_ERROR, "{field} must be an integer >= 1, got {value}",
                                  {"field": info.field_name, "value": value})
    return value


def _limits(words: str, unit: str) -> Callable[[Range], Range]:
    """A check that (low, high) satisfies 0 < low <= high, both finite."""
    def check(value: Range) -> Range:
        low, high = value
        if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
            raise ValueError(f"{words} must satisfy 0 < min <= max {unit}, got {low}..{high}")
        return value
    return check


def _positive(unit: str) -> Callable[[float, ValidationInfo], float]:
    def check(value: float, info: ValidationInfo) -> float:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{info.field_name} must be > 0 {unit}, got {value}")
        return value
    return check


def _pixel_size(value: float | Range, info: ValidationInfo) -> float | Range:
    if isinstance(value, tuple):
        return _limits("pixel size range", "Å/px")(value)
    return _positive("Å/px")(value, info)


def _mtf(value: Any) -> Any:
    """A detector MTF: a preset name (mtf1..mtf5), a preset file (.yaml) or 'c0,c3,C' text
    (checked, kept as text), fixed :class:`~dosewise.physics.MTFParams`, an
    :class:`~dosewise.physics.MTFPreset` (or either's fields as a mapping), or None (a
    direct electron counter: white shot noise). :mod:`dosewise.physics` is imported here,
    not with this module, so that ``dosewise`` starts without scipy."""
    from dosewise.physics import MTFParams, MTFPreset, parse_mtf

    if value is None or isinstance(value, (MTFParams, MTFPreset)):
        return value
    if isinstance(value, str):
        try:
            parse_mtf(value)
        except DosewiseError as error:
            raise ValueError(str(error)) from None
        return value
    if isinstance(value, Mapping):
        try:
            return (MTFPreset if "name" in value else MTFParams).model_validate(dict(value))
        except ValidationError as exc:
            raise ValueError(describe_validation_error(exc)) from None
    raise ValueError(f"must be a preset name, a preset .yaml, 'c0,c3,C', MTFParams, MTFPreset or None, got {value!r}")


def _margin(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise ValueError(f"margin_A must be None (automatic) or >= 0 Å, got {value}")
    return value


def _stem_size(value: int) -> int:
    if value < STEM_MIN_SIZE_PX:
        raise ValueError(f"size_px must be >= {STEM_MIN_SIZE_PX}, got {value}")
    return value


def _particle_size(value: int) -> int:
    if value < PARTICLE_MIN_SIZE_PX:
        raise ValueError(f"size_px must be >= {PARTICLE_MIN_SIZE_PX}, got {value}")
    return value


def _smallest_diameter(value: Range) -> Range:
    if value[0] < PARTICLE_MIN_DIAMETER_PX:
        raise ValueError(f"diameter range must start at >= {PARTICLE_MIN_DIAMETER_PX:g} px, got {value[0]}")
    return value


def _blur_range(value: Range) -> Range:
    low, high = value
    if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high):
        raise ValueError(f"blur range must satisfy 0 <= min <= max px, got {low}..{high}")
    return value


def _frames(value: int) -> int:
    if value < 2:
        raise ValueError(f"n_frames must be >= 2, got {value}")
    return value


def _dose_list(value: list[float] | None) -> list[float] | None:
    if value is not None and (not value or not all(math.isfinite(d) and d > 0 for d in value)):
        raise ValueError(f"doses must be a non-empty list of values > 0 e-/Å², got {value}")
    return value


def _without_top_level(name: str, instead: dict[str, str]) -> Callable[[Any], Any]:
    """Refuse a dose or pixel-size range set inside ``name``: the recipe's own field sets it."""
    def check(ranges: Any) -> Any:
        given = sorted(set(instead) & set(ranges.model_fields_set))
        if given:
            raise ValueError(f"{given[0]} is set by {instead[given[0]]} at the top level, not in {name}")
        return ranges
    return check


Count = Annotated[int, AfterValidator(_count)]
DoseRange = Annotated[Range, AfterValidator(_limits("dose range", "e-/Å²"))]
PixelSize = Annotated[float, AfterValidator(_positive("Å/px"))]
Length = Annotated[float, AfterValidator(_positive("Å"))]
# str | MTFParams | MTFPreset | None, validated by _mtf.
Mtf = Annotated[Any, AfterValidator(_mtf)]


class _HrtemImaging(Recipe):
    """What an HRTEM data set and a dose series share: structure, exit wave, detector."""

    seed: int = Field(default=0, ge=0)
    n0_e_per_px: float = Field(default=DEFAULT_N0_E_PER_PX, ge=0, allow_inf_nan=False)
    diameter_range_A: Annotated[Range, AfterValidator(_limits("diameter range", "Å"))] = (15.0, 50.0)
    max_sampling_A: Length = 0.1  # exit-wave grid: coarser is faster and blurrier
    slice_thickness_A: Length = 2.0  # multislice slice
    frozen_phonons: int = Field(default=0, ge=0)
    # Simulated frame around the field (Å, rounded up to whole pixels); None: the lens
    # delocalisation of the drawn optics (:func:`~dosewise.simulate.hrtem.lens_margin_A`).
    margin_A: Annotated[float | None, AfterValidator(_margin)] = None

    @model_validator(mode="after")
    def _field_holds_a_particle(self) -> _HrtemImaging:
        pixel_size_A = getattr(self, "pixel_size_A")
        limits_A = pixel_size_A if isinstance(pixel_size_A, tuple) else (pixel_size_A, pixel_size_A)
        if limits_A[1] > HRTEM_MAX_PIXEL_SIZE_A:
            raise ValueError(f"pixel_size_A must be <= {HRTEM_MAX_PIXEL_SIZE_A:g} Å/px for HRTEM (coarser pixels "
                             f"cannot sample the Au lattice), got {limits_A[1]:g}")
        low_A, high_A = (getattr(self, "size_px") * p for p in limits_A)
        if not (HRTEM_FIELD_RANGE_A[0] <= low_A and high_A <= HRTEM_FIELD_RANGE_A[1]):
            raise ValueError("size_px x pixel_size_A (the field of view) must lie in [{:g}, {:g}] Å, got {:g}".format(
                *HRTEM_FIELD_RANGE_A, low_A if low_A < HRTEM_FIELD_RANGE_A[0] else high_A))
        return self


# --- the recipes ---------------------------------------------------------------------------


class HrtemDatasetConfig(_HrtemImaging):
    """A labelled HRTEM data set: ``n_structures`` exit waves x ``variants_per_structure`` images.

    ``pixel_size_A``: one value, or limits drawn once per structure; the dose is drawn
    log-uniformly per image; ``microscope`` holds the ranges of the optics drawn per image
    (seed 003 Table 1; its dose and pixel size are this recipe's ``dose_range_e_per_A2``
    and ``pixel_size_A``).
    """

    n_structures: Count = 10
    variants_per_structure: Count = 4
    size_px: Count = 256
    pixel_size_A: Annotated[float | Range, AfterValidator(_pixel_size)] = 0.25
    dose_range_e_per_A2: DoseRange = (1e2, 1e6)
    mtf: Mtf = "mtf4"
    microscope: Annotated[MicroscopeRanges, AfterValidator(_without_top_level(
        "microscope", {"dose_e_per_A2": "dose_range_e_per_A2", "pixel_size_A": "pixel_size_A"}))] = Field(
        default_factory=MicroscopeRanges)

    @field_serializer("microscope")
    def _optics_only(self, value: MicroscopeRanges, info: SerializationInfo) -> dict[str, Any]:
        return value.model_dump(mode=info.mode, exclude=set(_TOP_LEVEL_RANGES))

    @property
    def pixel_size_range_A(self) -> Range:
        """The pixel-size limits: (p, p) for one pixel size."""
        if isinstance(self.pixel_size_A, tuple):
            return self.pixel_size_A
        return (self.pixel_size_A, self.pixel_size_A)

    @property
    def drawn_ranges(self) -> MicroscopeRanges:
        """Every drawn range: ``microscope``'s optics with this recipe's dose and pixel size."""
        return MicroscopeRanges.model_validate({**self.microscope.model_dump(),
                                                "dose_e_per_A2": self.dose_range_e_per_A2,
                                                "pixel_size_A": self.pixel_size_range_A})


class DoseSeriesConfig(_HrtemImaging):
    """One structure with fixed optics and detector, frame dose rising log-spaced.

    ``n_frames`` doses log-spaced over ``dose_range_e_per_A2``, or ``doses_e_per_A2`` (any
    list, which then replaces both). ``microscope`` fixes the optics (its dose is ignored);
    ``None`` draws them once from seed 003 Table 1 with ``seed``.
    """

    renamed: ClassVar[dict[str, str]] = {"dose_min_e_per_A2": "dose_range_e_per_A2",
                                         "dose_max_e_per_A2": "dose_range_e_per_A2"}

    dose_range_e_per_A2: DoseRange = (10.0, 1e4)
    n_frames: Annotated[int, AfterValidator(_frames)] = 20
    doses_e_per_A2: Annotated[list[float] | None, AfterValidator(_dose_list)] = None
    size_px: Count = 256
    pixel_size_A: PixelSize = 0.25
    mtf: Mtf = "mtf3"
    microscope: MicroscopeParams | None = None

    @field_validator("doses_e_per_A2", mode="before")
    @classmethod
    def _plain_doses(cls, value: Any) -> Any:
        return value.tolist() if isinstance(value, np.ndarray) else value

    def frame_doses(self) -> list[float]:
        """The dose of every frame in e-/Å²."""
        if self.doses_e_per_A2 is not None:
            return list(self.doses_e_per_A2)
        low, high = self.dose_range_e_per_A2
        return np.geomspace(low, high, self.n_frames).tolist()


class StemDatasetConfig(Recipe):
    """A labelled ADF-STEM data set of ``n_images`` crystal images.

    ``materials``: ``None`` or ``"all"`` for every one, or names such as ``"Au"`` (all its
    zone axes) and ``"SrTiO3[110]"``, as a list or one comma-separated string. ``ranges``
    holds every other drawn parameter; its dose and pixel size are this recipe's
    ``dose_range_e_per_A2`` and ``pixel_size_range_A``.
    """

    n_images: Count = 100
    size_px: Annotated[int, AfterValidator(_count), AfterValidator(_stem_size)] = 256
    dose_range_e_per_A2: DoseRange = (1e2, 1e5)
    pixel_size_range_A: Annotated[Range, AfterValidator(_limits("pixel size range", "Å/px"))] = (0.08, 0.2)
    materials: str | list[str] | None = None
    seed: int = Field(default=0, ge=0)
    ranges: Annotated[StemRanges, AfterValidator(_without_top_level(
        "ranges", {"dose_e_per_A2": "dose_range_e_per_A2", "pixel_size_A": "pixel_size_range_A"}))] = Field(
        default_factory=StemRanges)
    mask_radius_A: Length = 0.5
    mask_min_relative_weight: float = Field(default=0.1, ge=0, le=1)

    @field_validator("materials", mode="before")
    @classmethod
    def _all_materials(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip().lower() == "all" else value

    @field_serializer("ranges")
    def _other_ranges(self, value: StemRanges, info: SerializationInfo) -> dict[str, Any]:
        return value.model_dump(mode=info.mode, exclude=set(_TOP_LEVEL_RANGES))

    @property
    def drawn_ranges(self) -> StemRanges:
        """Every drawn range: ``ranges`` with this recipe's dose and pixel size."""
        return StemRanges.model_validate({**self.ranges.model_dump(), "dose_e_per_A2": self.dose_range_e_per_A2,
                                          "pixel_size_A": self.pixel_size_range_A})


class ParticleDatasetConfig(Recipe):
    """A labelled data set of ``n_images`` nanoparticle fields (:mod:`dosewise.simulate.particle_scenes`).

    ``modality``: ``bf`` (bright-field TEM), ``adf`` (ADF/HAADF-STEM) or ``both`` (drawn per
    image). ``dose_range_e_per_px``: limits of the dose, drawn log-uniformly per image, in
    electrons per pixel at intensity 1 (the bright-field support, the typical ADF particle
    peak). ``diameter_range_px``: limits of a particle's circumscribed diameter;
    ``pixel_size_range_nm`` only calibrates the drawn scene (metadata and the dose per Å²).
    ``patch_fraction``: the share of images whose prisms carry lighter patches. ``mtf`` and
    ``n0_e_per_px``: the detector, as for the HRTEM recipes (a preset draws both per image).
    """

    n_images: Count = 100
    size_px: Annotated[int, AfterValidator(_count), AfterValidator(_particle_size)] = 256
    modality: ParticleModality = Field(default=ParticleModality.both, validate_default=True)
    dose_range_e_per_px: Annotated[Range, AfterValidator(_limits("dose range", "e-/px"))] = (1.0, 1e4)
    diameter_range_px: Annotated[Range, AfterValidator(_limits("diameter range", "px")),
                                 AfterValidator(_smallest_diameter)] = (6.0, 80.0)
    pixel_size_range_nm: Annotated[Range, AfterValidator(_limits("pixel size range", "nm/px"))] = (0.1, 2.0)
    blur_range_px: Annotated[Range, AfterValidator(_blur_range)] = (0.5, 2.0)
    max_particles: Count = 150
    patch_fraction: float = Field(default=0.25, ge=0, le=1, allow_inf_nan=False)
    mtf: Mtf = "mtf4"
    n0_e_per_px: float = Field(default=DEFAULT_N0_E_PER_PX, ge=0, allow_inf_nan=False)
    seed: int = Field(default=0, ge=0)
