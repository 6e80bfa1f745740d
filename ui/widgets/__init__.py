"""Reusable widgets of the kiosk shell (each in its own module)."""
