"""The kiosk's voice without Qt: which prompts exist, how they are read, the pre-rendered voice
pack, composing a sentence from its pieces (with the privacy rule) and the ALSA player.

``ui/voice.py`` is the Qt side (what screen says what, mute/volume/speed). See docs/voice.md.
"""
