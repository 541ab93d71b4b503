"""Recipes: every configuration a user writes in YAML or passes from a notebook.

One base (:class:`Recipe`, :class:`Section`) gives every recipe strict keys, one-line
errors, YAML in and out, and :func:`apply_overrides` for command-line flags.
"""

from dosewise.config.base import Recipe, Section, apply_overrides

__all__ = ["Recipe", "Section", "apply_overrides"]
