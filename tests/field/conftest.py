"""Fixtures for the field tests. The helpers live in fieldday.py and fieldhelpers.py (module names
unique in the suite, so importing them never picks up another area's conftest)."""

from fieldday import backend, backend_dsn, models_dir, pg_cluster, templates  # noqa: F401
