"""Overlap scores between a predicted and a true mask.

Two empty masks agree perfectly (score 1.0): a frame with no particle that the
model leaves empty is a correct answer, not a division by zero.
"""

from __future__ import annotations

import numpy as np

from dosewise.errors import InvalidParameterError


def dice(pred_mask: np.ndarray, true_mask: np.ndarray) -> float:
    """Dice (F1) = 2|P∩T| / (|P| + |T|)."""
    pred, true = _as_bool_pair(pred_mask, true_mask)
    total = int(pred.sum()) + int(true.sum())
    return 1.0 if total == 0 else 2.0 * int(np.logical_and(pred, true).sum()) / total


def iou(pred_mask: np.ndarray, true_mask: np.ndarray) -> float:
    """Intersection over union (Jaccard) = |P∩T| / |P∪T|."""
    pred, true = _as_bool_pair(pred_mask, true_mask)
    union = int(np.logical_or(pred, true).sum())
    return 1.0 if union == 0 else int(np.logical_and(pred, true).sum()) / union


def _as_bool_pair(pred_mask: np.ndarray, true_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred, true = np.asarray(pred_mask, dtype=bool), np.asarray(true_mask, dtype=bool)
    if pred.shape != true.shape:
        raise InvalidParameterError(
            f"masks must have the same shape, got {pred.shape} and {true.shape}"
        )
    return pred, true
