"""Fixtures of the console tests; the helpers live in consolekit.py (a unique module name)."""

from consolekit import console_backend, pg_cluster  # noqa: F401
