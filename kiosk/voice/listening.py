"""What can be heard objectively in a clip, without a person: length per syllable, clipping,
silence at the ends and inside, loudness. ``scripts/voice_check.py`` prints it for the pack;
tests/voice/test_listening.py holds the clips to it. A person still listens (docs/voice.md,
"Listening check"): these figures only find the clips worth listening to first."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

FRAME_MS = 10
SILENT_DBFS = -40.0             # a 10 ms frame quieter than this is silence (trim threshold 0.01 ~ -40 dBFS)
CLAUSE_PAUSE_MS = 220          # scripts/build_voice.py CLAUSE_PAUSE_S
CLIP_LEVEL = 32_700             # a sample this close to full scale counts as clipped

# Limits a clip is held to (normal speed; the slow clips are checked against their normal twin).
MAX_END_SILENCE_MS = 120        # the build keeps 30 ms at each end; the composer adds its own pauses
MAX_INNER_SILENCE_MS = 700      # a clause pause is 220 ms: longer is a drop-out or a stray pause
MAX_CLIPPED = 0.0005            # share of samples at full scale
ZH_MS_PER_SYLLABLE = (120, 420)  # FastSpeech2 at 1.0: about 200-260 ms a syllable
SLOW_RATIO = (1.12, 1.5)        # the slow clips are rendered at 1.3x duration
LEVEL_SPREAD_DB = 8.0           # a clip's speech level this far from the pack's median stands out


@dataclass(frozen=True)
class Measure:
    ms: int
    units: int                  # syllables (Mandarin, from the reviewed pinyin) or words (English)
    peak_dbfs: float
    clipped: float              # share of samples at full scale
    lead_ms: int                # silence before the first sound
    trail_ms: int               # silence after the last sound
    inner_silence_ms: int       # longest silence inside
    level_dbfs: float           # RMS of the frames with speech

    pauses: int = 0             # clause pauses the build put in (220 ms each, not speech)

    @property
    def ms_per_unit(self) -> float:
        return max(0, self.ms - self.pauses * CLAUSE_PAUSE_MS) / max(1, self.units)


def units(language: str, text: str, pinyin: str | None) -> tuple[int, int]:
    """(syllables or words, clause pauses) of a clip."""
    if language == "zh_CN" and pinyin:
        words = pinyin.split()
        return sum(1 for s in words if s != "/"), words.count("/")
    return max(1, len(re.findall(r"[A-Za-z0-9']+", text))), 0


def measure(pcm: bytes, rate: int, n_units: int, pauses: int = 0) -> Measure:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return Measure(0, n_units, -120.0, 0.0, 0, 0, 0, -120.0, pauses)
    frame = max(1, rate * FRAME_MS // 1000)
    n = samples.size // frame
    frames = samples[: n * frame].reshape(n, frame) if n else samples.reshape(1, -1)
    rms = np.sqrt(np.mean(frames ** 2, axis=1)) / 32768.0
    db = 20 * np.log10(np.maximum(rms, 1e-6))
    loud = np.flatnonzero(db > SILENT_DBFS)
    peak = float(np.max(np.abs(samples))) / 32768.0
    if loud.size == 0:
        lead = trail = len(db) * FRAME_MS
        inner = 0
        level = -120.0
    else:
        lead, trail = int(loud[0]) * FRAME_MS, int(len(db) - 1 - loud[-1]) * FRAME_MS
        gaps = np.diff(loud) - 1
        inner = int(gaps.max()) * FRAME_MS if gaps.size else 0
        level = float(20 * np.log10(np.sqrt(np.mean(rms[loud] ** 2))))
    return Measure(ms=round(1000 * samples.size / rate), units=n_units,
                   peak_dbfs=round(20 * np.log10(max(peak, 1e-6)), 1),
                   clipped=float(np.mean(np.abs(samples) >= CLIP_LEVEL)), lead_ms=lead, trail_ms=trail,
                   inner_silence_ms=inner, level_dbfs=round(level, 1), pauses=pauses)


def problems(language: str, m: Measure, *, slow: Measure | None = None, median_level: float | None = None) -> list[str]:
    """What stands out in one clip (normal speed), in words; empty when nothing does."""
    out = []
    if m.clipped > MAX_CLIPPED:
        out.append(f"clipped ({m.clipped:.2%} of samples at full scale)")
    if m.lead_ms > MAX_END_SILENCE_MS or m.trail_ms > MAX_END_SILENCE_MS:
        out.append(f"silence at the ends ({m.lead_ms} ms before, {m.trail_ms} ms after)")
    if m.inner_silence_ms > MAX_INNER_SILENCE_MS:
        out.append(f"a {m.inner_silence_ms} ms silence inside")
    if language == "zh_CN" and m.units >= 2 and not ZH_MS_PER_SYLLABLE[0] <= m.ms_per_unit <= ZH_MS_PER_SYLLABLE[1]:
        out.append(f"{m.ms_per_unit:.0f} ms a syllable (expected {ZH_MS_PER_SYLLABLE[0]}-{ZH_MS_PER_SYLLABLE[1]})")
    if slow is not None and m.units >= 2 and m.ms and not SLOW_RATIO[0] <= slow.ms / m.ms <= SLOW_RATIO[1]:
        out.append(f"the slow clip is {slow.ms / m.ms:.2f}x as long (expected {SLOW_RATIO[0]}-{SLOW_RATIO[1]})")
    if median_level is not None and abs(m.level_dbfs - median_level) > LEVEL_SPREAD_DB:
        out.append(f"speech level {m.level_dbfs} dBFS, the pack's median is {median_level:.1f}")
    return out
