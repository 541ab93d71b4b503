"""Every score dosewise reports, in one place: masks (Dice/F1, IoU, precision, recall) and
images (PSNR, SSIM), on numpy arrays. Batched torch versions for validation during
training are in :mod:`dosewise.metrics.torch_batch` (imported separately: no torch here).

Two empty masks agree perfectly (score 1.0): a frame with no particle that the model
leaves empty is a correct answer, not a division by zero.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

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


def precision(pred_mask: np.ndarray, true_mask: np.ndarray) -> float:
    """|P∩T| / |P|: the share of predicted pixels that are particle (1 when both are empty,
    0 when only the prediction is)."""
    pred, true = _as_bool_pair(pred_mask, true_mask)
    if not pred.any():
        return 1.0 if not true.any() else 0.0
    return int(np.logical_and(pred, true).sum()) / int(pred.sum())


def recall(pred_mask: np.ndarray, true_mask: np.ndarray) -> float:
    """|P∩T| / |T|: the share of particle pixels found (1 when there is no particle)."""
    pred, true = _as_bool_pair(pred_mask, true_mask)
    if not true.any():
        return 1.0
    return int(np.logical_and(pred, true).sum()) / int(true.sum())


def psnr_db(estimate: np.ndarray, reference: np.ndarray, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB; the peak is ``data_range`` (default: the
    reference's value range)."""
    estimate, reference = _as_float_pair(estimate, reference)
    peak = float(np.ptp(reference)) if data_range is None else float(data_range)
    mse = float(np.mean((estimate - reference) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(peak**2 / mse))


def relative_psnr_db(estimate: np.ndarray, reference: np.ndarray) -> float:
    """PSNR of ``estimate`` against ``reference`` after dividing each by its mean, for images
    in different units (electron counts against a vacuum-1 simulation)."""
    estimate, reference = _as_float_pair(estimate, reference)
    return psnr_db(estimate / estimate.mean(), reference / reference.mean())


def ssim(estimate: np.ndarray, reference: np.ndarray, data_range: float | None = None) -> float:
    """Structural similarity (scikit-image), on the reference's value range by default."""
    estimate, reference = _as_float_pair(estimate, reference)
    span = float(np.ptp(reference)) if data_range is None else float(data_range)
    return float(structural_similarity(reference, estimate, data_range=span))


def _as_bool_pair(pred_mask: np.ndarray, true_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred, true = np.asarray(pred_mask, dtype=bool), np.asarray(true_mask, dtype=bool)
    _same_shape(pred, true)
    return pred, true


def _as_float_pair(estimate: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(estimate, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    _same_shape(a, b)
    return a, b


def _same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise InvalidParameterError(f"arrays must have the same shape, got {a.shape} and {b.shape}")
