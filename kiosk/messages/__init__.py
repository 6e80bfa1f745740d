"""Citizen-facing sentences for the typed codes drivers and models return (one module per area)."""
