"""The committed voice pack: every prompt in both languages has intact audio, with its reading,
version and licence recorded; clips decode to PCM of the length the manifest says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kiosk.voice import catalog
from kiosk.voice.pack import (
    DEFAULT_DIR,
    SAMPLE_RATE,
    SPEEDS,
    TABLE_NAME,
    VoicePack,
    VoicePackError,
    read_table,
)


def test_every_prompt_in_both_languages_has_audio(pack: VoicePack) -> None:
    for language in catalog.LANGUAGES:
        missing = [p.text for p in catalog.pieces(language) if pack.clip_for(language, p.text) is None]
        assert not missing, f"{language}: no audio for {missing[:5]} - rebuild with scripts/build_voice.py render"
    assert pack.verify() == []                      # every file present, every sha256 right


def test_manifest_records_voice_version_licence_and_reviewed_pinyin(pack: VoicePack) -> None:
    assert pack.version and pack.name == "sscard-kiosk-voice"
    assert "non-commercial" in pack.licence("zh_CN") and "CSMSC" in pack.licence("zh_CN")
    assert "espeak-ng" in pack.manifest["voices"]["en"]["engine"]
    table = read_table(DEFAULT_DIR / TABLE_NAME)
    for clip in pack.clips["zh_CN"].values():
        assert pack.manifest["clips"]["zh_CN"][clip.key]["pinyin"] == table[clip.text]


def test_clips_decode_to_speech_of_the_recorded_length(pack: VoicePack) -> None:
    clip = pack.clip_for("zh_CN", "请插入社保卡或触摸屏幕开始")
    assert clip is not None
    normal = pack.pcm("zh_CN", clip.key, "normal")
    slow = pack.pcm("zh_CN", clip.key, "slow")
    seconds = len(normal) / 2 / SAMPLE_RATE
    assert abs(seconds * 1000 - clip.files["normal"]["ms"]) < 80      # Opus pads a few ms
    assert 1.0 < seconds < 6.0 and len(slow) > len(normal) * 1.1     # "slow" really is slower
    assert max(abs(int.from_bytes(normal[i:i + 2], "little", signed=True)) for i in range(0, len(normal), 200)) > 3000


def test_committed_audio_stays_small() -> None:
    size = sum(p.stat().st_size for p in DEFAULT_DIR.rglob("*") if p.is_file())
    # 25 MB: the private-mode pieces (family names, years, 尾号) added ~1 MB to the 20 MB of prompts.
    assert size < 25_000_000, f"voice/ is {size / 1e6:.1f} MB; keep it under 25 MB"
    assert set(SPEEDS) == {"normal", "slow"}


def test_missing_or_damaged_pack_is_a_clear_error(tmp_path: Path, pack: VoicePack) -> None:
    with pytest.raises(VoicePackError, match=r"no voice pack .* captions"):
        VoicePack.load(tmp_path)
    copy = tmp_path / "voice"
    shutil.copytree(DEFAULT_DIR, copy)
    clip = pack.clip_for("zh_CN", "请插入社保卡或触摸屏幕开始")
    assert clip is not None
    (copy / clip.files["normal"]["path"]).write_bytes(b"OggS not really")
    damaged = VoicePack.load(copy)
    with pytest.raises(VoicePackError, match="sha256"):
        damaged.pcm("zh_CN", clip.key, "normal")
    assert any("damaged" in p for p in damaged.verify())
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 99
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(VoicePackError, match="format 99"):
        VoicePack.load(copy)
