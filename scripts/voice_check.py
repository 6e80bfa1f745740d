#!/usr/bin/env python3
"""Objective listening over the voice pack: per clip its length per syllable, clipping, silence at
the ends and inside, speech level; prints the figures and the clips that stand out (listen to
those first: docs/voice.md, "Listening check").

    .venv/bin/python scripts/voice_check.py                 # every clip, both languages
    .venv/bin/python scripts/voice_check.py --kind private --language zh_CN --all
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.voice import listening  # noqa: E402
from kiosk.voice.pack import SAMPLE_RATE, VoicePack  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", choices=("zh_CN", "en"))
    parser.add_argument("--kind", help="only clips of this kind (phrase, number, private, year...)")
    parser.add_argument("--all", action="store_true", help="print every clip, not only those that stand out")
    args = parser.parse_args(argv)
    pack = VoicePack.load()
    flagged = 0
    for language in pack.languages():
        if args.language and language != args.language:
            continue
        rows = []
        for clip in pack.clips[language].values():
            if args.kind and clip.kind != args.kind:
                continue
            n, pauses = listening.units(language, clip.text, pack.manifest["clips"][language][clip.key].get("pinyin"))
            normal = listening.measure(pack.pcm(language, clip.key, "normal"), SAMPLE_RATE, n, pauses)
            slow = listening.measure(pack.pcm(language, clip.key, "slow"), SAMPLE_RATE, n, pauses)
            rows.append((clip, normal, slow))
        if not rows:
            continue
        median = statistics.median(m.level_dbfs for _, m, _ in rows)
        per_unit = [m.ms_per_unit for c, m, _ in rows if m.units >= 2]
        unit = "syllable" if language == "zh_CN" else "word"
        print(f"{language}: {len(rows)} clips; speech level median {median:.1f} dBFS; "
              f"ms per {unit} median {statistics.median(per_unit):.0f} "
              f"(p5 {percentile(per_unit, 5):.0f}, p95 {percentile(per_unit, 95):.0f}); "
              f"peak max {max(m.peak_dbfs for _, m, _ in rows):.1f} dBFS; "
              f"end silence max {max(max(m.lead_ms, m.trail_ms) for _, m, _ in rows)} ms; "
              f"slow/normal median {statistics.median(s.ms / max(1, m.ms) for _, m, s in rows):.2f}")
        for clip, m, s in rows:
            found = listening.problems(language, m, slow=s, median_level=median)
            flagged += bool(found)
            if found or args.all:
                print(f"  {'!' if found else ' '} {clip.kind:7} {m.ms:5d} ms {m.units:3d} {unit[:3]} "
                      f"{m.ms_per_unit:5.0f} ms/{unit[:3]} peak {m.peak_dbfs:5.1f} level {m.level_dbfs:5.1f} "
                      f"ends {m.lead_ms}/{m.trail_ms} ms  {clip.text[:40]}  {'; '.join(found)}")
    print(f"{flagged} clips stand out: listen to them first")
    return 0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


if __name__ == "__main__":
    sys.exit(main())
