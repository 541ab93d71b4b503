"""What every training campaign in ``scripts/`` shares: its checkpoint committed small (Adam moments
in bfloat16) and restored for a resume, its log, and a commit of its folder alone."""

from __future__ import annotations

import csv
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def pack(source: Path, target: Path) -> None:
    """``source`` with its optimiser moments in bfloat16 (committed; weights stay float32)."""
    checkpoint = torch.load(source, map_location="cpu", weights_only=False)
    for state in checkpoint.get("optimizer_states", []):
        for moments in state["state"].values():
            for key, value in moments.items():
                if torch.is_tensor(value) and value.is_floating_point() and value.ndim > 0:
                    moments[key] = value.to(torch.bfloat16)
    partial = target.with_suffix(".partial")
    torch.save(checkpoint, partial)
    partial.replace(target)


def unpack(source: Path, target: Path) -> None:
    """The committed checkpoint back in float32, where Lightning resumes from it."""
    checkpoint = torch.load(source, map_location="cpu", weights_only=False)
    for state in checkpoint.get("optimizer_states", []):
        for moments in state["state"].values():
            for key, value in moments.items():
                if torch.is_tensor(value) and value.dtype == torch.bfloat16:
                    moments[key] = value.float()
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, target)


def read_log(campaign: Path) -> list[dict[str, str]]:
    path = campaign / "log.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def write_log(campaign: Path, rows: list[dict[str, object]]) -> None:
    with open(campaign / "log.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def chunks(stop: float, chunk_minutes: float) -> Iterator[float]:
    """Training minutes of each chunk until the monotonic clock reaches ``stop`` (none under a minute)."""
    while (left := (stop - time.monotonic()) / 60) >= 1:
        yield min(chunk_minutes, left)


def commit(campaign: Path, message: str, paths: list[str] | None = None) -> None:
    """Commit only the campaign folder, or only ``paths`` inside it (other staged work is left alone)."""
    targets = [str(campaign / path) for path in paths] if paths else [str(campaign)]
    try:
        subprocess.run(["git", "add", *targets], cwd=REPO, check=True, capture_output=True)
        subprocess.run(["git", "commit", "-q", "-m", message, "--", *targets], cwd=REPO, check=True,
                       capture_output=True)
    except subprocess.CalledProcessError as error:
        print(f"commit skipped: {error.stderr.decode(errors='replace').strip()}", flush=True)
