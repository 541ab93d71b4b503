"""Where tiles go and which part of each tile is kept (pure geometry, no torch).

A fully convolutional network sees only a window of ``receptive_field_px`` pixels
around each output pixel. Near a tile edge that window runs into the network's
padding, so those outputs differ from a whole-image run. Keeping from each tile
only the pixels that are at least the receptive-field radius away from every
*inner* tile edge makes the stitched output equal to the whole-image output.

Along one axis, tiles of ``tile_px`` start every ``tile_px - overlap_px`` pixels;
the last one is shifted inward to end exactly at the image edge. Between two
neighbours the overlap is split at its midpoint, so every output pixel comes from
the tile in which it is furthest from an edge, and each tile loses at least
``overlap_px // 2`` pixels on each inner side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dosewise.errors import InvalidParameterError


@dataclass(frozen=True)
class AxisTile:
    """One tile along an axis: reads ``[start, start + tile_px)``, keeps ``[keep_lo, keep_hi)``."""

    start: int
    keep_lo: int
    keep_hi: int


def required_overlap_px(receptive_field_px: int) -> int:
    """Smallest overlap for which tiled and whole-image outputs agree exactly.

    Each tile discards ``overlap // 2`` pixels on its inner sides, which must be
    at least the receptive-field radius ``ceil((rf - 1) / 2)``.
    """
    if receptive_field_px < 1:
        raise InvalidParameterError(
            f"receptive field must be >= 1 px, got {receptive_field_px}"
        )
    return 2 * math.ceil((receptive_field_px - 1) / 2)


def check_tiling(tile_px: int, overlap_px: int) -> None:
    """Refuse tile/overlap pairs that cannot tile anything."""
    if tile_px < 2:
        raise InvalidParameterError(f"tile size must be >= 2 px, got {tile_px}")
    if not 0 <= overlap_px < tile_px:
        raise InvalidParameterError(
            f"overlap must be >= 0 and smaller than the tile size ({tile_px} px), got {overlap_px}"
        )


def plan_axis(length_px: int, tile_px: int, overlap_px: int) -> list[AxisTile]:
    """Tiles covering ``[0, length_px)``; ``length_px`` must be at least ``tile_px``.

    Images smaller than a tile are padded up to the tile by the caller, so no
    tile ever reads past the array.
    """
    check_tiling(tile_px, overlap_px)
    if length_px < tile_px:
        raise InvalidParameterError(
            f"axis of {length_px} px is shorter than the tile ({tile_px} px); pad it first"
        )
    stride = tile_px - overlap_px
    n_tiles = max(1, math.ceil((length_px - overlap_px) / stride))
    starts = [i * stride for i in range(n_tiles - 1)] + [length_px - tile_px]
    # Cut each overlap at its midpoint: the pixel goes to the tile it is deeper inside.
    cuts = [(left + tile_px + right) // 2 for left, right in zip(starts, starts[1:])]
    bounds = [0, *cuts, length_px]
    return [
        AxisTile(start=start, keep_lo=lo, keep_hi=hi)
        for start, lo, hi in zip(starts, bounds, bounds[1:])
    ]
