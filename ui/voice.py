"""Voice prompts: the same words as on screen, spoken without ever blocking the UI thread.

Pipeline: :class:`VoicePrompter` (what to say, mute, "latest prompt wins") -> an engine that turns
text into sound -> a sink that plays it.

* ``qt``: QTextToSpeech, when a working engine exists (asynchronous by design; it plays itself).
* ``espeak``: ``espeak-ng`` renders a WAV (voice ``cmn`` for Mandarin, ``en`` for English) on a
  worker thread; the sink plays it (aplay/paplay if present, else QtMultimedia from memory).
* ``none``: silent.

``ui.voice_engine = "qt"`` falls back to espeak when Qt has no working engine (e.g. no
speech-dispatcher), and to silence when neither exists. Tests use the real espeak engine with a
:class:`RecordingSink`, which keeps what would have been played instead of playing it.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QLocale, QObject, Qt, Signal, Slot

from ui.qt_compat import emit

log = logging.getLogger(__name__)

ESPEAK_VOICES = {"zh_CN": "cmn", "en": "en"}
ESPEAK_RATE_WPM = 140           # slower than espeak's 175: older listeners
RENDER_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Utterance:
    text: str
    language: str
    engine: str
    voice: str = ""
    audio: bytes = b""          # WAV bytes for engines that render; empty for Qt's own playback


class Sink(Protocol):
    def play(self, utterance: Utterance) -> None: ...
    def stop(self) -> None: ...


class RecordingSink:
    """Keeps every utterance that would have been played (tests, and a transcript for support)."""

    def __init__(self) -> None:
        self.utterances: list[Utterance] = []
        self.stops = 0

    def play(self, utterance: Utterance) -> None:
        self.utterances.append(utterance)

    def stop(self) -> None:
        self.stops += 1

    @property
    def texts(self) -> list[str]:
        return [u.text for u in self.utterances]


class AudioSink:
    """Plays WAV bytes: through aplay/paplay when installed (fed on a helper thread), else Qt."""

    def __init__(self) -> None:
        # Both read the WAV from stdin: the audio never touches the disk.
        paplay, aplay = shutil.which("paplay"), shutil.which("aplay")
        self._player_cmd = [paplay] if paplay else [aplay, "-q", "-"] if aplay else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._qt_player = None
        self._buffer: QBuffer | None = None

    def play(self, utterance: Utterance) -> None:
        self.stop()
        if not utterance.audio:
            return
        if self._player_cmd is not None:
            proc = subprocess.Popen(self._player_cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self._proc = proc
            threading.Thread(target=_feed, args=(proc, utterance.audio), daemon=True, name="voice-feed").start()
            return
        self._play_qt(utterance.audio)

    def _play_qt(self, audio: bytes) -> None:
        from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

        if self._qt_player is None:
            self._qt_player = QMediaPlayer()
            self._qt_output = QAudioOutput()
            self._qt_player.setAudioOutput(self._qt_output)
        self._buffer = QBuffer()
        self._buffer.setData(QByteArray(audio))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self._qt_player.setSourceDevice(self._buffer)
        self._qt_player.play()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        self._proc = None
        if self._qt_player is not None:
            self._qt_player.stop()


def _feed(proc: subprocess.Popen[bytes], audio: bytes) -> None:
    try:
        assert proc.stdin is not None
        proc.stdin.write(audio)
        proc.stdin.close()
        proc.wait(timeout=60)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        proc.kill()


class EspeakEngine:
    """Renders speech to WAV with espeak-ng; called on the prompter's worker thread only."""

    name = "espeak"

    def __init__(self, binary: str | None = None) -> None:
        found = binary or shutil.which("espeak-ng")
        if found is None:
            raise FileNotFoundError("espeak-ng is not installed (Debian package espeak-ng; scripts/setup.sh)")
        self.binary = found

    def render(self, text: str, language: str) -> Utterance:
        voice = ESPEAK_VOICES.get(language, "en")
        done = subprocess.run([self.binary, "-v", voice, "-s", str(ESPEAK_RATE_WPM), "--stdout", text],
                              capture_output=True, timeout=RENDER_TIMEOUT_S, check=False)
        if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
            raise RuntimeError(f"espeak-ng failed with code {done.returncode}")
        return Utterance(text, language, self.name, voice, _fix_wav_sizes(done.stdout))


def _fix_wav_sizes(wav: bytes) -> bytes:
    """espeak-ng --stdout streams, so its header says "unknown length" (0xFFFFFFFF); players that
    read from memory (FFmpeg) then call the data corrupt. Write the real sizes in."""
    data = bytearray(wav)
    at = data.find(b"data", 12)
    if data[:4] != b"RIFF" or at < 0:
        return wav
    data[4:8] = (len(data) - 8).to_bytes(4, "little")
    data[at + 4:at + 8] = (len(data) - at - 8).to_bytes(4, "little")
    return bytes(data)


class VoicePrompter(QObject):
    """Say the current screen's words. ``say`` returns at once; only the latest prompt is played."""

    _rendered = Signal(object, int)
    spoken = Signal(object)             # an Utterance handed to the sink (or to Qt's engine)
    muted_changed = Signal(bool)

    def __init__(self, engine: EspeakEngine | QtSpeechEngine | None, sink: Sink | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.sink: Sink = sink if sink is not None else AudioSink()
        self._muted = False
        self._seq = 0
        self._pending: tuple[int, str, str] | None = None
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._rendered.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        if isinstance(engine, EspeakEngine):
            self._thread = threading.Thread(target=self._work, daemon=True, name="voice-render")
            self._thread.start()

    @property
    def engine_name(self) -> str:
        return getattr(self.engine, "name", "none")

    @property
    def muted(self) -> bool:
        return self._muted

    def set_muted(self, muted: bool) -> None:
        if muted == self._muted:
            return
        self._muted = muted
        if muted:
            self.stop()
        emit(self.muted_changed, muted)

    def say(self, text: str, language: str) -> None:
        text = " ".join(text.split())
        if not text or self.engine is None:
            return
        self._seq += 1
        if self._muted:
            return
        if isinstance(self.engine, QtSpeechEngine):
            self.engine.say(text, language)
            emit(self.spoken, Utterance(text, language, self.engine.name))
            return
        with self._cond:
            self._pending = (self._seq, text, language)
            self._cond.notify()

    def stop(self) -> None:
        self._seq += 1                  # anything still rendering is now stale
        with self._cond:
            self._pending = None
        if isinstance(self.engine, QtSpeechEngine):
            self.engine.stop()
        self.sink.stop()

    def close(self) -> None:
        self.stop()
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=RENDER_TIMEOUT_S + 1)

    def _work(self) -> None:
        assert isinstance(self.engine, EspeakEngine)
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                assert self._pending is not None
                seq, text, language = self._pending
                self._pending = None
            try:
                utterance = self.engine.render(text, language)
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
                log.warning("voice prompt not rendered", extra={"error": type(exc).__name__})
                continue
            emit(self._rendered, utterance, seq)

    @Slot(object, int)
    def _deliver(self, utterance: Utterance, seq: int) -> None:
        # Main thread. A newer prompt, a stop or a mute since the request makes this one stale.
        if seq != self._seq or self._muted:
            return
        self.sink.play(utterance)
        emit(self.spoken, utterance)


class QtSpeechEngine:
    """QTextToSpeech with a working backend (not Qt's 'mock' test plugin)."""

    name = "qt"

    def __init__(self, tts) -> None:
        self._tts = tts

    @classmethod
    def create(cls) -> QtSpeechEngine | None:
        from PySide6.QtTextToSpeech import QTextToSpeech

        for engine in QTextToSpeech.availableEngines():
            if engine == "mock":
                continue
            tts = QTextToSpeech(engine)
            if tts.state() != QTextToSpeech.State.Error:
                return cls(tts)
            tts.deleteLater()
        return None

    def say(self, text: str, language: str) -> None:
        locale = QLocale(QLocale.Language.Chinese, QLocale.Country.China) if language == "zh_CN" \
            else QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
        self._tts.setLocale(locale)
        self._tts.say(text)

    def stop(self) -> None:
        self._tts.stop()


def make_prompter(engine_name: str, enabled: bool = True, sink: Sink | None = None,
                  parent: QObject | None = None) -> VoicePrompter:
    """Pick the engine from ``ui.voice_engine`` with the documented fallbacks."""
    engine: EspeakEngine | QtSpeechEngine | None = None
    if enabled and engine_name == "qt":
        engine = QtSpeechEngine.create()
        if engine is None:
            log.info("no Qt text-to-speech engine; falling back to espeak-ng")
            engine_name = "espeak"
    if enabled and engine_name == "espeak":
        try:
            engine = EspeakEngine()
        except FileNotFoundError as exc:
            log.warning("voice prompts off", extra={"why": str(exc)})
    return VoicePrompter(engine, sink, parent)
