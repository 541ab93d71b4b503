"""Results a person can open: self-contained HTML reports and matplotlib figures.

The only package that draws. Every figure is a :class:`matplotlib.figure.Figure` built
directly (no pyplot, no backend switch on import) and saved with
:func:`dosewise.report.style.save_png` at one resolution.
"""

from dosewise.report.html import HtmlReport

__all__ = ["HtmlReport"]
