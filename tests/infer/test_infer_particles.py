"""Particle measurements recover known synthetic discs; the CSV is what a spreadsheet expects."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from dosewise.errors import InvalidParameterError
from dosewise.analysis.particles import CSV_COLUMNS, measure_particles, write_particles_csv
from dosewise.metrics import dice, iou


def disc(shape: tuple[int, int], centre_yx: tuple[float, float], radius: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - centre_yx[0]) ** 2 + (xx - centre_yx[1]) ** 2 <= radius**2


def test_disc_area_and_equivalent_diameter_are_recovered() -> None:
    (particle,) = measure_particles(disc((100, 120), (50, 60), 20))
    assert particle.area_px == pytest.approx(math.pi * 20**2, rel=0.02)
    assert particle.equivalent_diameter_px == pytest.approx(40, rel=0.02)
    assert (particle.centroid_x_px, particle.centroid_y_px) == pytest.approx((60, 50))
    assert particle.bbox == (30, 40, 71, 81)
    assert not particle.touches_border
    assert particle.area_nm2 is None and particle.equivalent_diameter_nm is None


def test_sizes_in_nm_use_the_pixel_size() -> None:
    (particle,) = measure_particles(disc((100, 100), (50, 50), 20), pixel_size_A=0.5)
    # 0.5 Å/px = 0.05 nm/px: a 40 px disc is 2 nm across, pi nm² in area.
    assert particle.area_nm2 == pytest.approx(particle.area_px * 0.05**2)
    assert particle.area_nm2 == pytest.approx(math.pi, rel=0.02)
    assert particle.equivalent_diameter_nm == pytest.approx(2.0, rel=0.02)


def test_two_discs_are_two_particles_and_edges_are_flagged() -> None:
    mask = disc((80, 200), (40, 40), 10) | disc((80, 200), (40, 195), 15)
    particles = measure_particles(mask)
    assert [p.label for p in particles] == [1, 2]
    first, second = sorted(particles, key=lambda p: p.centroid_x_px)
    assert first.centroid_x_px == pytest.approx(40)
    assert first.area_px == pytest.approx(math.pi * 10**2, rel=0.03)
    assert not first.touches_border and second.touches_border


def test_corner_contact_joins_particles() -> None:
    mask = np.zeros((10, 10), bool)
    mask[2:4, 2:4] = mask[4:6, 4:6] = True  # touching only at a corner
    assert len(measure_particles(mask)) == 1


def test_empty_mask_has_no_particles_and_bad_pixel_size_is_refused() -> None:
    assert measure_particles(np.zeros((8, 8), bool)) == []
    with pytest.raises(InvalidParameterError, match="pixel size"):
        measure_particles(np.zeros((8, 8), bool), pixel_size_A=0.0)


def test_csv_has_header_and_one_row_per_particle(tmp_path: Path) -> None:
    mask = disc((80, 200), (40, 40), 10) | disc((80, 200), (40, 150), 15)
    particles = measure_particles(mask, pixel_size_A=1.0)
    path = write_particles_csv(tmp_path / "particles.csv", particles)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [int(row["area_px"]) for row in rows] == [p.area_px for p in particles]
    assert float(rows[1]["area_nm2"]) == pytest.approx(particles[1].area_nm2, rel=1e-5)
    assert rows[0]["touches_border"] == "False"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["particles.csv"]  # no temp file left


def test_csv_leaves_nm_columns_empty_without_a_pixel_size(tmp_path: Path) -> None:
    path = write_particles_csv(tmp_path / "p.csv", measure_particles(disc((30, 30), (15, 15), 5)))
    (row,) = list(csv.DictReader(open(path, newline="")))
    assert row["area_nm2"] == "" and row["equivalent_diameter_nm"] == ""


def test_dice_and_iou_known_answers() -> None:
    pred = np.zeros((4, 4), bool)
    true = np.zeros((4, 4), bool)
    assert dice(pred, true) == 1.0 and iou(pred, true) == 1.0  # empty vs empty agrees
    pred[0, :2] = True  # 2 px
    assert dice(pred, true) == 0.0 and iou(pred, true) == 0.0
    true[0, 1:4] = True  # 3 px, 1 in common
    assert dice(pred, true) == pytest.approx(2 * 1 / 5)
    assert iou(pred, true) == pytest.approx(1 / 4)
    assert dice(true, true) == 1.0 and iou(true, true) == 1.0
    with pytest.raises(InvalidParameterError, match="same shape"):
        dice(pred, true[:2])
