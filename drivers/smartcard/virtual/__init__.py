"""A virtual social-security card and PSAM (TEST KEYS ONLY), served to a real pcscd through vpcd
or plugged into an in-process reader backend for the demo profile (no pcscd)."""
