"""The kiosk as an appliance: release identity, signed update bundles, the systemd watchdog client,
the run-state file the updater and the doctor read, and the production PC/SC guard (no vpcd).

Plain Python, no Qt: ``ui/appliance.py`` drives the watchdog and state file from the Qt loop.
"""
