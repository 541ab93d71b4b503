"""A small self-contained HTML report.

Figures are embedded as base64 PNG (and also saved beside the page), so the
report can be mailed or copied as one file and still shows everything.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from dosewise.io import atomic_write
from dosewise.report.style import png_bytes

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { border-bottom: 2px solid #345; padding-bottom: .2em; }
h2 { margin-top: 1.6em; color: #345; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #bbb; padding: .25em .6em; text-align: right; }
th { background: #eef; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0; } figcaption { font-size: .9em; color: #555; }
img { max-width: 100%; }
"""


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


@dataclass
class HtmlReport:
    """Collects sections, then writes ``report.html`` (and its figures as PNG) atomically."""

    title: str
    _parts: list[str] = field(default_factory=list)
    _figures: dict[str, bytes] = field(default_factory=dict)

    def heading(self, text: str) -> None:
        self._parts.append(f"<h2>{html.escape(text)}</h2>")

    def text(self, text: str) -> None:
        self._parts.append(f"<p>{html.escape(text)}</p>")

    def figure(self, name: str, fig: Figure, caption: str = "") -> None:
        """Embed a figure; it is also written as ``<name>.png`` next to the report."""
        self.png(name, png_bytes(fig), caption)

    def png(self, name: str, png: bytes, caption: str = "") -> None:
        """Embed PNG bytes (e.g. a plot another step already wrote); also written as ``<name>.png``."""
        self._figures[name] = png
        encoded = base64.b64encode(png).decode("ascii")
        self._parts.append(
            f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{encoded}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def table(self, headers: list[str], rows: list[list[Any]], caption: str = "") -> None:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self._parts.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def render(self) -> str:
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>{''.join(self._parts)}</body></html>"
        )

    def write(self, out_dir: Path, filename: str = "report.html") -> Path:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, png in self._figures.items():
            with atomic_write(out_dir / f"{name}.png") as tmp:
                tmp.write_bytes(png)
        target = out_dir / filename
        with atomic_write(target) as tmp:
            tmp.write_text(self.render(), encoding="utf-8")
        return target
