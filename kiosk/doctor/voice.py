"""Doctor: the voice pack (version, licence, every clip intact), the audio path (aplay) and the
headphone socket of private audio (docs/voice.md)."""

from __future__ import annotations

import shutil

from kiosk.config import KioskConfig, resolve_path
from kiosk.doctor import CheckResult, Verdict
from kiosk.voice import catalog
from kiosk.voice.pack import VoicePack, VoicePackError

_RESTORE = "restore voice/ from the release, or rebuild it: scripts/build_voice.py (docs/voice.md)"


def checks(config: KioskConfig) -> list[CheckResult]:
    if not config.ui.voice or config.ui.voice_engine == "none":
        return [CheckResult("voice", Verdict.WARN, "voice prompts are off (ui.voice / ui.voice_engine)",
                            "turn them on for citizens with poor sight: ui.voice = true, ui.voice_engine = \"pack\"")]
    return [_pack(config), _player(), headphones(config)]


def _pack(config: KioskConfig) -> CheckResult:
    root = resolve_path(config.ui.voice_pack_dir)
    try:
        pack = VoicePack.load(root)
    except VoicePackError as exc:
        return CheckResult("voice pack", Verdict.WARN, str(exc), _RESTORE)
    problems = pack.verify()
    missing = [f"{language} {piece.text!r}" for language in catalog.LANGUAGES for piece in catalog.pieces(language)
               if pack.clip_for(language, piece.text) is None]
    if problems or missing:
        first = (problems + missing)[0]
        return CheckResult("voice pack", Verdict.WARN, f"{len(problems) + len(missing)} prompt clips missing or "
                           f"damaged, e.g. {first}; those prompts are shown but not spoken", _RESTORE)
    clips = sum(len(c) for c in pack.clips.values())
    return CheckResult("voice pack", Verdict.OK, f"{pack.name} {pack.version}: {clips} clips "
                       f"({', '.join(pack.languages())}) intact; Mandarin voice licence: {pack.licence('zh_CN')}")


def _player() -> CheckResult:
    if shutil.which("aplay") is None:
        return CheckResult("voice output", Verdict.WARN, "aplay is missing: prompts cannot be played",
                           "install the Debian package alsa-utils (scripts/setup.sh)")
    return CheckResult("voice output", Verdict.OK, "ALSA via aplay")


def headphones(config: KioskConfig) -> CheckResult:
    """Private audio needs a headphone switch the kiosk can read (a Linux input event device)."""
    import os

    from drivers.headphone.evdev import find_jack_device

    ui = config.ui
    name = "headphone socket"
    if not ui.private_audio or ui.headphone_jack == "none":
        return CheckResult(name, Verdict.OK, "private audio is off: the voice never says personal details")
    if ui.headphone_jack == "simulator":
        return CheckResult(name, Verdict.OK, "simulated socket (demo panel: plug headphones in)")
    path = find_jack_device() if ui.headphone_jack_device == "auto" else ui.headphone_jack_device
    if path is None or not os.path.exists(path):
        where = path or "auto: no input device with SW_HEADPHONE_INSERT"
        return CheckResult(name, Verdict.WARN, f"no headphone switch found ({where}): private audio and the "
                           "eyes-free visit are unavailable",
                           "connect the sound card's headphone socket and set ui.headphone_jack_device, or "
                           "ui.headphone_jack = \"none\" on a kiosk without one")
    if not os.access(path, os.R_OK):
        return CheckResult(name, Verdict.WARN, f"{path} is not readable by the kiosk user",
                           "add the kiosk user to the group 'input' (or a udev rule for this device)")
    return CheckResult(name, Verdict.OK, f"{path}: plugging headphones in turns on private audio")
