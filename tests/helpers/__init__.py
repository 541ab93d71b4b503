"""Plain helpers shared by the tests: import them by full name (``from tests.helpers.cli import invoke``).

Fixtures live in the ``conftest.py`` files and may call these; no test imports from a conftest.
"""
