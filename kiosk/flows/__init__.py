"""Citizen services as flows: plain Python run on a flow thread, shown by the UI through a presenter."""
