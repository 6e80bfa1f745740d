"""Objective listening (kiosk/voice/listening.py) over the clips private audio and the eyes-free
visit added: family names, "ending in", past years, the key map. Each is decoded from the pack and
held to the limits: no clipping, no long silence at the ends or inside, a natural pace, a level
near the others. (scripts/voice_check.py prints the same figures for every clip.)"""

from __future__ import annotations

import statistics

from kiosk.i18n import LOCALE_DIR, parse_po
from kiosk.voice import catalog, listening, private
from kiosk.voice.pack import SAMPLE_RATE, VoicePack


def new_texts(language: str) -> list[str]:
    eyes_free = parse_po(LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "eyes_free.po")
    phrases = [t.phrases for t in catalog.templates(language) if t.msgid in eyes_free]
    years = [catalog.date_words(language, y, 1, 1)[0 if language == "zh_CN" else 2] for y in catalog.PAST_YEARS]
    return [*private.pieces(language), *years, *(p for ps in phrases for p in ps)]


def test_the_new_clips_sound_right(pack: VoicePack) -> None:
    checked = 0
    for language in catalog.LANGUAGES:
        measured = []
        for text in new_texts(language):
            clip = pack.clip_for(language, text)
            assert clip is not None, (language, text)
            n, pauses = listening.units(language, text, pack.manifest["clips"][language][clip.key].get("pinyin"))
            normal = listening.measure(pack.pcm(language, clip.key, "normal"), SAMPLE_RATE, n, pauses)
            slow = listening.measure(pack.pcm(language, clip.key, "slow"), SAMPLE_RATE, n, pauses) if n >= 4 else None
            measured.append((text, normal, slow))
        median = statistics.median(m.level_dbfs for _, m, _ in measured)
        for text, normal, slow in measured:
            assert not listening.problems(language, normal, slow=slow, median_level=median), (language, text, normal)
        checked += len(measured)
    assert checked > 300


def test_the_measures_find_what_they_are_for() -> None:
    import numpy as np

    rate = SAMPLE_RATE
    t = np.arange(rate) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    silence = np.zeros(rate // 2, dtype="<i2")
    loud = np.clip(tone.astype(np.int32) * 4, -32768, 32767).astype("<i2")
    padded = listening.measure(np.concatenate([silence, tone, silence, tone]).tobytes(), rate, 4)
    assert padded.lead_ms >= 490 and padded.inner_silence_ms >= 490 and padded.trail_ms == 0
    assert any("ends" in p for p in listening.problems("zh_CN", padded))
    clipped = listening.measure(loud.tobytes(), rate, 4)
    assert any(p.startswith("clipped") for p in listening.problems("zh_CN", clipped))
    assert abs(listening.measure(tone.tobytes(), rate, 4).level_dbfs - 20 * np.log10(0.3 / np.sqrt(2))) < 0.5
