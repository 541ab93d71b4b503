"""Exceptions from third-party libraries, squeezed into one line for DosewiseError messages."""

from __future__ import annotations

_MAX_REASON_CHARS = 300


def one_line_reason(exc: BaseException) -> str:
    """``"ErrorType: message"`` without newlines, cut to a readable length."""
    text = " ".join(str(exc).split()) or "no details"
    reason = f"{type(exc).__name__}: {text}"
    return reason if len(reason) <= _MAX_REASON_CHARS else reason[: _MAX_REASON_CHARS - 3] + "..."
