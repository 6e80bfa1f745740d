"""Voice prompts: the same words as on screen, spoken without ever blocking the UI thread.

Pipeline: :class:`VoicePrompter` (what to say, mute/volume/speed, "latest prompt wins") ->
the composer (:mod:`kiosk.voice.compose`: known prompts and public numbers only; personal data
is withheld here, whatever the engine) -> an engine that turns the composition into PCM on the
prompter's worker thread -> a sink that plays it.

Engines (``ui.voice_engine``):

* ``pack`` (default): the pre-rendered voice pack (``voice/``, docs/voice.md): natural Mandarin
  from a neural TTS rendered at build time, English from espeak-ng, composed from clips. No pack:
  English falls back to live espeak-ng, Mandarin stays silent (captions stay on screen).
* ``espeak``: live espeak-ng for both languages (development; its Mandarin is poor).
* ``none``: silent. ``qt`` is an old name for ``pack``.

The sink is :class:`AudioSink`: ALSA through ``aplay`` on a player thread of its own
(:mod:`kiosk.voice.player`); nothing audio-related runs on the GUI thread. Tests use
:class:`RecordingSink`, which keeps the audio queue instead of playing it.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal, Slot

from kiosk.voice import pack as voice_pack
from kiosk.voice.compose import Composition, composer
from kiosk.voice.player import AlsaPlayer, Playback
from ui.qt_compat import emit

log = logging.getLogger(__name__)

ESPEAK_VOICES = {"zh_CN": "cmn", "en": "en"}
ESPEAK_RATE_WPM = {"normal": 140, "slow": 110}     # slower than espeak's 175: older listeners
RENDER_TIMEOUT_S = 10.0
VOLUMES = (0.35, 0.65, 1.0)                         # low / medium / high
DEFAULT_VOLUME = 1
SPEEDS = voice_pack.SPEEDS                          # "normal", "slow"
# Said first in every visit: decoded at start so the first screen's prompt has no decode delay.
WARM_PROMPTS = ("Insert your card or touch the screen to start", "Please choose a service")


@dataclass(frozen=True)
class Utterance:
    text: str                   # what is said: the screen's words, less anything withheld
    language: str
    engine: str
    voice: str = ""
    parts: tuple[Callable[[], bytes], ...] = ()     # 16-bit mono PCM in order, decoded when called
    rate: int = 0
    speed: str = "normal"
    volume: float = 1.0
    withheld: tuple[str, ...] = ()      # kinds of what was not said (never the values)
    seq: int = 0
    private: bool = False               # holds a personal value: headphones only (docs/voice.md)

    @property
    def pcm(self) -> bytes:
        return b"".join(part() for part in self.parts)

    @property
    def audio(self) -> bytes:
        """The PCM as a WAV file (support transcripts, tests)."""
        out = io.BytesIO()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(self.rate or voice_pack.SAMPLE_RATE)
            wav.writeframes(self.pcm)
        return out.getvalue()


class Sink(Protocol):
    def play(self, utterance: Utterance) -> None: ...
    def stop(self) -> None: ...


class RecordingSink:
    """Keeps every utterance that would have been played: the audio queue, for tests."""

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
    """Plays through ALSA on the player thread; silent (with a warning) where aplay is missing.

    ``private_device``: the ALSA PCM of the headphone socket where the sound card does not mute
    its loudspeaker by itself when headphones go in (``ui.headphone_audio_device``); a private
    utterance is played there only. Empty: the same device (the codec switches its output)."""

    def __init__(self, device: str = "default", private_device: str = "") -> None:
        self.player: AlsaPlayer | None
        self.private_player: AlsaPlayer | None = None
        try:
            self.player = AlsaPlayer(device)
            if private_device and private_device != device:
                self.private_player = AlsaPlayer(private_device)
        except FileNotFoundError as exc:
            log.warning("voice prompts cannot be played", extra={"why": str(exc)})
            self.player = None

    def play(self, utterance: Utterance) -> None:
        player = self.private_player if utterance.private and self.private_player is not None else self.player
        if player is not None and utterance.parts:
            # No stop() of both players here: the prompter stopped them when this prompt was asked
            # for (say, set_private) and a later stop makes it stale; the player replaces its own.
            player.play(Playback(utterance.parts, utterance.rate, utterance.volume, utterance.seq))

    def stop(self) -> None:
        for player in (self.player, self.private_player):
            if player is not None:
                player.stop()

    def close(self) -> None:
        for player in (self.player, self.private_player):
            if player is not None:
                player.close()


def _silence(ms: int, rate: int) -> bytes:
    return b"\x00\x00" * (rate * ms // 1000)


class EspeakEngine:
    """Renders speech with espeak-ng; called on the prompter's worker thread only."""

    name = "espeak"

    def __init__(self, binary: str | None = None) -> None:
        found = binary or shutil.which("espeak-ng")
        if found is None:
            raise FileNotFoundError("espeak-ng is not installed (Debian package espeak-ng; scripts/setup.sh)")
        self.binary = found

    def render(self, composition: Composition, speed: str) -> Utterance | None:
        text = composition.transcript
        if not text:
            return None
        voice = ESPEAK_VOICES.get(composition.language, "en")
        done = subprocess.run([self.binary, "-v", voice, "-s", str(ESPEAK_RATE_WPM[speed]), "--stdout", text],
                              capture_output=True, timeout=RENDER_TIMEOUT_S, check=False)
        if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
            raise RuntimeError(f"espeak-ng failed with code {done.returncode}")
        with wave.open(io.BytesIO(voice_pack.fix_wav_sizes(done.stdout))) as wav:
            rate, pcm = wav.getframerate(), wav.readframes(wav.getnframes())
        return Utterance(text, composition.language, self.name, voice, (partial(bytes, pcm),), rate, speed)


class PackEngine:
    """Joins the pack's clips for a composition; English falls back to espeak-ng without a pack."""

    name = "pack"

    def __init__(self, pack: voice_pack.VoicePack | None, espeak: EspeakEngine | None) -> None:
        self.pack = pack
        self.espeak = espeak

    def render(self, composition: Composition, speed: str) -> Utterance | None:
        if not composition.parts:
            return None
        language = composition.language
        if self.pack is None or language not in self.pack.clips:
            if language == "en" and self.espeak is not None:
                return self.espeak.render(composition, speed)
            return None                 # no Mandarin voice: the captions stay, nothing is said
        rate = voice_pack.SAMPLE_RATE
        parts: list[Callable[[], bytes]] = []
        for part in composition.parts:
            clip = self.pack.clip_for(language, part.text)
            if clip is None:
                log.warning("voice pack has no clip for a prompt piece", extra={"language": language})
                continue
            if parts and part.pause_ms:
                parts.append(partial(_silence, part.pause_ms, rate))
            # Decoded on the player thread just before it is played (cached after the first time).
            parts.append(partial(self.pack.pcm, language, clip.key, speed))
        if not parts:
            return None
        return Utterance(composition.transcript, language, self.name, self.pack.name, tuple(parts), rate, speed)


Engine = PackEngine | EspeakEngine


class VoicePrompter(QObject):
    """Say the current screen's words. ``say`` returns at once; only the latest prompt is played.

    Controls for the citizen: mute (for this visit only), volume, speed, repeat."""

    _rendered = Signal(object, int)
    spoken = Signal(object)             # an Utterance handed to the sink
    muted_changed = Signal(bool)
    private_changed = Signal(bool)      # headphones in (True) or out: private audio mode
    settings_changed = Signal()

    def __init__(self, engine: Engine | None, sink: Sink | None = None, parent: QObject | None = None,
                 *, hotline: str = "12333") -> None:
        super().__init__(parent)
        self.engine = engine
        self.sink: Sink = sink if sink is not None else AudioSink()
        self.hotline = hotline
        self._muted = False
        self._private = False
        self.volume_index = DEFAULT_VOLUME
        self.speed = "normal"
        self._seq = 0
        self._last: tuple[str, str] | None = None
        self._pending: tuple[int, str, str, str, float, bool] | None = None
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._rendered.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        if engine is not None:
            self._thread = threading.Thread(target=self._work, daemon=True, name="voice-render")
            self._thread.start()

    @property
    def engine_name(self) -> str:
        return getattr(self.engine, "name", "none")

    @property
    def muted(self) -> bool:
        return self._muted

    @property
    def volume(self) -> float:
        return VOLUMES[self.volume_index]

    @property
    def private(self) -> bool:
        """Private audio mode: headphones are plugged in, personal values may be said."""
        return self._private

    def set_private(self, private: bool) -> None:
        """Headphones in or out. Out: whatever is playing or rendering stops at once (it may hold
        a personal value) before anything else is said, in public mode."""
        if private == self._private:
            return
        self._private = private
        if not private:
            self.stop()
        emit(self.private_changed, private)

    def set_muted(self, muted: bool) -> None:
        if muted == self._muted:
            return
        self._muted = muted
        if muted:
            self.stop()
        emit(self.muted_changed, muted)

    def next_volume(self) -> None:
        """Low -> medium -> high -> low; the current prompt is said again at the new volume."""
        self.volume_index = (self.volume_index + 1) % len(VOLUMES)
        emit(self.settings_changed)
        self.repeat()

    def toggle_speed(self) -> None:
        self.speed = "slow" if self.speed == "normal" else "normal"
        emit(self.settings_changed)
        self.repeat()

    def repeat(self) -> None:
        if self._last is not None:
            self.say(*self._last)

    def end_visit(self) -> None:
        """Mute, volume and speed were the last citizen's choice: the next one starts afresh."""
        self.stop()
        self.volume_index, self.speed = DEFAULT_VOLUME, "normal"
        self._last = None
        self.set_muted(False)
        emit(self.settings_changed)

    def compose(self, text: str, language: str, private: bool = False) -> Composition:
        return composer(language, self.hotline).compose(text, private=private)

    def say(self, text: str, language: str) -> None:
        text = " ".join(text.split())
        if not text:
            return
        self._last = (text, language)
        self.stop()                     # a new screen silences the old one at once
        if self.engine is None or self._muted:
            return
        with self._cond:
            self._pending = (self._seq, text, language, self.speed, self.volume, self._private)
            self._cond.notify()

    def stop(self) -> None:
        self._seq += 1                  # anything still rendering is now stale
        with self._cond:
            self._pending = None
        self.sink.stop()

    def close(self) -> None:
        self.stop()
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=RENDER_TIMEOUT_S + 1)
        close = getattr(self.sink, "close", None)
        if callable(close):
            close()

    def _warm_up(self) -> None:
        """Off the GUI thread, before the first screen: match tables built, decoder loaded, the
        attract and home prompts decoded, so even the first prompt starts within budget."""
        from kiosk.i18n import translate

        for language in ("zh_CN", "en"):
            composer(language, self.hotline)
        if isinstance(self.engine, PackEngine) and self.engine.pack is not None:
            for msgid in WARM_PROMPTS:
                for language in self.engine.pack.languages():
                    text = msgid if language == "en" else translate(msgid, language)
                    for part in self.compose(text, language).parts:
                        clip = self.engine.pack.clip_for(language, part.text)
                        if clip is not None:
                            self.engine.pack.pcm(language, clip.key, "normal")

    def _work(self) -> None:
        assert self.engine is not None
        try:
            self._warm_up()
        except (OSError, ValueError, voice_pack.VoicePackError) as exc:
            log.warning("voice warm-up failed", extra={"error": type(exc).__name__})
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                assert self._pending is not None
                seq, text, language, speed, volume, private = self._pending
                self._pending = None
            try:
                composition = self.compose(text, language, private)
                utterance = self.engine.render(composition, speed)
            except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
                log.warning("voice prompt not rendered", extra={"error": type(exc).__name__})
                continue
            if utterance is None:
                continue
            said = text if composition.complete and not composition.private else utterance.text
            emit(self._rendered, _replace(utterance, said, volume, composition.withheld, seq, composition.private),
                 seq)

    @Slot(object, int)
    def _deliver(self, utterance: Utterance, seq: int) -> None:
        # Main thread. A newer prompt, a stop or a mute since the request makes this one stale;
        # so does a private utterance once the headphones are out (set_private stopped it too).
        if seq != self._seq or self._muted or (utterance.private and not self._private):
            return
        self.sink.play(utterance)
        emit(self.spoken, utterance)


def _replace(u: Utterance, text: str, volume: float, withheld: tuple[str, ...], seq: int,
             private: bool = False) -> Utterance:
    return Utterance(text, u.language, u.engine, u.voice, u.parts, u.rate, u.speed, volume, withheld, seq, private)


def load_pack(root: Path | None = None) -> voice_pack.VoicePack | None:
    try:
        return voice_pack.VoicePack.load(root or voice_pack.DEFAULT_DIR)
    except voice_pack.VoicePackError as exc:
        log.warning("voice pack not loaded", extra={"why": str(exc)})
        return None


def make_prompter(engine_name: str, enabled: bool = True, sink: Sink | None = None,
                  parent: QObject | None = None, *, hotline: str = "12333", pack_dir: Path | None = None,
                  audio_device: str = "default", private_audio_device: str = "") -> VoicePrompter:
    """Pick the engine from ``ui.voice_engine`` with the documented fallbacks."""
    engine: Engine | None = None
    if enabled and engine_name != "none":
        try:
            espeak: EspeakEngine | None = EspeakEngine()
        except FileNotFoundError as exc:
            log.warning("no espeak-ng for English prompts", extra={"why": str(exc)})
            espeak = None
        if engine_name == "espeak":
            engine = espeak
        else:
            engine = PackEngine(load_pack(pack_dir), espeak)
    if sink is None and engine is not None:
        sink = AudioSink(audio_device, private_audio_device)
    return VoicePrompter(engine, sink if sink is not None else RecordingSink(), parent, hotline=hotline)
