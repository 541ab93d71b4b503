"""Results a person can open: self-contained HTML reports and matplotlib figures."""

from dosewise.report.html import HtmlReport

__all__ = ["HtmlReport"]
