"""Doctor: the voice pack (version, licence, every clip intact) and the audio path (aplay)."""

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
    return [_pack(config), _player()]


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
