"""The headphone socket (private audio mode, docs/voice.md): plugged or not, as a device event."""
