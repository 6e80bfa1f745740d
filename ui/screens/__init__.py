"""One module per screen of the kiosk shell; each has ``retranslate()``, ``reset()`` and ``prompt()``."""
