"""A progress bar over the files of a batch, on stderr (so ``--json`` on stdout stays clean)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

T = TypeVar("T")


def each(items: Iterable[T], description: str, *, enabled: bool) -> Iterator[T]:
    """``items`` one by one, with a bar (files done of all, time left) when ``enabled``."""
    items = list(items)
    if not enabled or len(items) < 2:
        yield from items
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=len(items))
        for item in items:
            yield item
            progress.advance(task)
