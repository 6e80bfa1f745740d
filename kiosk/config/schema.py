"""The configuration schema: one dataclass per TOML table.

Each area owns its own table. Add a key here with a default and a one-line comment on what it
means; the loader refuses keys it does not know, so a typo in a site file stops the kiosk with
a clear message instead of being silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class KioskSection:
    id: str = "demo-kiosk-0001"            # the kiosk's id at the backend (set by `kiosk enroll`)
    profile: Literal["demo", "office", "field"] = "demo"
    region_code: str = "440100"           # GB/T 2260 code of the issuing region this kiosk serves
    data_dir: str = "var/demo"            # store, keys, logs; relative paths are under the project root
    language: Literal["zh_CN", "en"] = "zh_CN"

    def validate(self) -> tuple[str, str] | None:
        if not self.id.strip():
            return "id", "must not be empty"
        if not (len(self.region_code) == 6 and self.region_code.isdigit()):
            return "region_code", "expected six digits (GB/T 2260), e.g. \"440100\""
        return None


@dataclass(frozen=True)
class UiSection:
    fullscreen: bool = True
    hide_cursor: bool = True              # touch kiosks: no mouse pointer on screen
    idle_timeout_s: int = 60              # seconds without a touch before the countdown starts
    countdown_s: int = 15                 # visible countdown before the visit ends
    result_timeout_s: int = 20            # a result screen returns to the start after this long
    voice: bool = True
    voice_engine: Literal["pack", "qt", "espeak", "none"] = "pack"   # docs/voice.md; "qt" = old name of "pack"
    # PBKDF2-SHA256 of the operator exit secret: "pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>".
    # Make one with `kiosk operator hash-secret`.
    operator_secret_hash: str = ""
    operator_max_failures: int = 3        # wrong operator secrets in a row before the exit locks
    operator_lockout_s: int = 300         # how long the operator exit stays locked after that
    font_family: str = "Noto Sans CJK SC"  # from fonts-noto-cjk; Chinese glyphs at kiosk sizes
    screen_width: int = 1920
    screen_height: int = 1080
    take_card_s: int = 30                 # "please take your card" countdown after a visit (issue 19)
    retain_left_card: bool = False        # capture a card not taken in time, where the reader can
    voice_pack_dir: str = "voice"         # the pre-rendered voice pack (relative to the project)
    audio_device: str = "default"         # ALSA PCM the voice plays on (e.g. "plughw:0,0", "null")
    # Private audio (headphone socket) and the eyes-free visit with the pad's keys: docs/voice.md.
    private_audio: bool = True            # headphones in: personal details may be said in them
    eyes_free: bool = True                # headphones in: the pad's keys move between choices
    headphone_jack: Literal["evdev", "simulator", "none"] = "evdev"   # how plugging is seen
    headphone_jack_device: str = "auto"   # evdev: /dev/input/eventN, or "auto" (the switch's device)
    headphone_audio_device: str = ""      # ALSA PCM for private speech; "" = audio_device (codec auto-mutes)

    def validate(self) -> tuple[str, str] | None:
        if self.idle_timeout_s < 10:
            return "idle_timeout_s", "expected at least 10 seconds (elderly citizens need time)"
        if self.countdown_s < 5:
            return "countdown_s", "expected at least 5 seconds"
        if self.operator_secret_hash and not self.operator_secret_hash.startswith("pbkdf2_sha256$"):
            return "operator_secret_hash", "expected a hash made by `kiosk operator hash-secret`"
        if self.operator_max_failures < 1:
            return "operator_max_failures", "expected at least 1"
        if self.take_card_s < 5:
            return "take_card_s", "expected at least 5 seconds (time to take the card out)"
        return None


@dataclass(frozen=True)
class LoggingSection:
    dir: str = "logs"                     # relative to kiosk.data_dir
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_bytes: int = 5_000_000
    backup_count: int = 10
    apdu_trace: bool = False              # redacted APDU trace at DEBUG level, for support staff


@dataclass(frozen=True)
class SmartcardSection:
    backend: Literal["pcsc", "virtual"] = "virtual"   # virtual: in-process card, no pcscd (demo)
    citizen_reader_pattern: str = "00 00$"            # regex on the PC/SC reader name
    psam_reader_pattern: str = "00 01$"               # regex for the PSAM's slot (another reader than the citizen's)
    poll_timeout_ms: int = 250                        # SCardGetStatusChange wait per loop (a queued command cuts it short)
    command_timeout_s: float = 10.0                   # a card or PSAM command that takes longer ends as timeOut
    max_pin_tries: int = 3                            # the cards' PIN try limit: a higher 63Cx is refused as an anomaly


@dataclass(frozen=True)
class PinpadSection:
    backend: Literal["serial", "simulator"] = "simulator"
    protocol: Literal["kmy"] = "kmy"                  # one module per vendor command set
    port: str = "/dev/sscard-epp"                     # stable udev symlink on a real kiosk
    baudrate: int = 9600
    wire_form: Literal["binary", "ascii_hex"] = "binary"
    pin_algorithm: Literal["sm4", "3des"] = "sm4"
    pin_timeout_s: int = 30
    command_timeout_s: float = 3.5                    # >= (retries + 1) x answer_timeout_s + 0.5 (checked)
    reconnect_max_backoff_s: float = 30.0
    pin_block_format: Literal["iso0", "iso4"] = "iso0"  # iso4 only with pin_algorithm "sm4"
    sm4_expansion: Literal["zero_suffix"] = "zero_suffix"  # 8-byte ISO 0 block under SM4: + 8 zero bytes
    send_etx: bool = True                             # binary wire form: end host frames with 03h
    answer_timeout_s: float = 1.0                     # wait for one answer before retransmitting
    retries: int = 2                                  # retransmissions after NAK, bad BCC or silence
    backspace_byte: int = 0x7F                        # the pad's backspace key byte; 0 = no such key
    ceremony_mode: bool = False                       # operator-enabled key-loading ceremony (clear master key)

    def validate(self) -> tuple[str, str] | None:
        if self.pin_block_format == "iso4" and self.pin_algorithm != "sm4":
            return "pin_block_format", "format iso4 needs pin_algorithm = \"sm4\" (a 128-bit cipher)"
        if not 0 <= self.backspace_byte <= 0xFF:
            return "backspace_byte", "expected a byte value 0..255 (0 = the pad has no backspace key)"
        if self.retries < 0 or self.answer_timeout_s <= 0:
            return "retries", "expected retries >= 0 and answer_timeout_s > 0"
        from drivers.pinpad.timing import timing_problem

        problem = timing_problem(self.command_timeout_s, self.answer_timeout_s, self.retries)
        if problem is not None:
            return "command_timeout_s", problem
        return None


@dataclass(frozen=True)
class CameraSection:
    backend: Literal["auto", "opencv", "images", "video", "still"] = "auto"
    device: str = "0"                                  # index or /dev/video path
    width: int = 640
    height: int = 480
    fps: int = 30
    source: str = "../shared/testdata/faces/silentface/image_T1.jpg"  # images/video/still sources
    reopen_max_backoff_s: float = 10.0


@dataclass(frozen=True)
class FaceSection:
    models_dir: str = "var/models"        # written by `kiosk models install`
    match_threshold: float = 0.363        # SFace cosine; see docs and bench/eval for calibration
    liveness_threshold: float = 0.8       # fused MiniFASNet P(real)
    active_challenge: bool = True
    challenge_steps: int = 2
    challenge_step_timeout_s: float = 6.0
    max_attempts: int = 3
    decision_timeout_s: float = 20.0
    keep_capture_for_review: bool = False  # send the decision frame (encrypted) for manual review
    passive_liveness: bool = True         # require MiniFASNet P(real) >= liveness_threshold
    require_match: bool = True            # require the 1:1 match (off only for liveness-only checks)
    stable_frames: int = 3                # consecutive frames passing the quality gate before deciding
    threads: int = 1                      # onnxruntime intra-op threads per model (1-2; spinning is off)
    detect_max_side: int = 320            # YuNet runs on the frame scaled to at most this many pixels
    mirrored: bool = False                # frames reach the pipeline mirrored (swaps left/right challenges)
    # Active-challenge moves, comma-separated, drawn in a fresh random order per attempt: turn_left,
    # turn_right, nod, look_up, blink, open_mouth (the last two need the dense landmark model).
    challenge_moves: str = "turn_left,turn_right,nod,look_up,blink,open_mouth"
    # Memory (issue 19, models/lazy.py): the face models are checked at start but loaded on the first
    # face check (~0.5 s, while the camera starts), and dropped after this long unused (0: kept).
    lazy_models: bool = True
    release_models_after_s: float = 120.0
    # Two-tier liveness (docs/face.md, "Two-tier decision"): with active_challenge on, passive liveness
    # is a screen with one threshold per face-size band (face width / frame width; edges split the
    # bands, one threshold more than edges), calibrated for <= 1% genuine refusals per band by
    # bench/face_liveness_decision.py, and the challenge is the gate; with it off, liveness_threshold.
    liveness_screen_band_edges: list[float] = field(default_factory=lambda: [0.27, 0.45])
    liveness_screen_thresholds: list[float] = field(default_factory=lambda: [0.14, 0.077, 0.0])
    # Faces wider than this share of the frame are asked to "move back a little" before liveness is
    # scored (the models' crop lacks context there); 0 = never ask.
    move_back_above: float = 0.45
    # Inference runtime (issue 14, models/runtime.py): "auto" = OpenVINO where it loads (2-3x faster
    # here), else onnxruntime + cv2.FaceDetectorYN; or "openvino" / "onnxruntime" to force one.
    runtime: str = "auto"
    # SFace in bfloat16 where OpenVINO runs on a CPU with native bf16 (AMX / AVX512-BF16): 3x faster,
    # cosine >= 0.9999 to float32, same pair decisions (docs/face.md, "Measured figures").
    embedding_bf16: bool = True
    # Use the second core during a face check (the kiosk does nothing else then): YuNet on two threads,
    # the two MiniFASNets at once, the embedding beside the decision frames' liveness. Same results;
    # the preview keeps ~30 fps (bench/face_pipeline.py, docs/face.md "Measured figures").
    parallel: bool = True

    def challenge_move_list(self) -> tuple[str, ...]:
        return tuple(m.strip() for m in self.challenge_moves.split(",") if m.strip())

    def policy(self, **decided_by_caller: Any) -> Any:
        """This section as a models.policy.FacePolicy, one mapping for the flows and the field kiosk;
        the caller adds what it decides itself (require_match, the review capture...)."""
        from models.policy import FacePolicy

        return FacePolicy(match_threshold=self.match_threshold, liveness_threshold=self.liveness_threshold,
                          active_challenge=self.active_challenge, challenge_steps=self.challenge_steps,
                          challenge_step_timeout_s=self.challenge_step_timeout_s, max_attempts=self.max_attempts,
                          decision_timeout_s=self.decision_timeout_s, stable_frames=self.stable_frames,
                          mirrored_preview=self.mirrored, challenge_moves=self.challenge_move_list(),
                          screen_band_edges=tuple(self.liveness_screen_band_edges),
                          screen_thresholds=tuple(self.liveness_screen_thresholds),
                          move_back_above=self.move_back_above, **decided_by_caller)

    def validate(self) -> tuple[str, str] | None:
        if not 0.0 < self.match_threshold < 1.0:
            return "match_threshold", "expected a cosine similarity between 0 and 1"
        if not 0.0 < self.liveness_threshold < 1.0:
            return "liveness_threshold", "expected a probability between 0 and 1"
        if self.max_attempts < 1:
            return "max_attempts", "expected at least 1"
        if self.challenge_steps < 1:
            return "challenge_steps", "expected at least 1"
        if not 1 <= self.threads <= 4:
            return "threads", "expected 1 to 4 (the kiosk has few cores; the UI needs one)"
        if self.release_models_after_s < 0:
            return "release_models_after_s", "expected 0 (keep the models loaded) or more seconds"
        known = {"turn_left", "turn_right", "nod", "look_up", "blink", "open_mouth"}
        moves = self.challenge_move_list()
        if not moves or not set(moves) <= known or (self.challenge_steps > 1 and len(set(moves)) < 2):
            return "challenge_moves", f"expected at least two of {', '.join(sorted(known))}, comma-separated"
        from models.screen import screen_problem  # pure Python: no model runtime is loaded

        problem = screen_problem(self.liveness_screen_band_edges, self.liveness_screen_thresholds,
                                 self.liveness_threshold)
        if problem:
            return f"liveness_screen_{problem[0]}", f"{problem[1]}; the shipped, calibrated table is in docs/face.md"
        if not 0.0 <= self.move_back_above < 1.0:
            return "move_back_above", "expected a face-width fraction below 1 (0 = never ask the person to move back)"
        if self.runtime not in ("auto", "openvino", "onnxruntime"):
            return "runtime", "expected auto, openvino or onnxruntime"
        return None


@dataclass(frozen=True)
class BackendSection:
    url: str = "http://127.0.0.1:8765"
    embedded: bool = True                 # demo: run the backend in-process on a local store
    timeout_s: float = 5.0
    ca_file: str = ""                     # extra CA bundle for the bureau's HTTPS endpoint
    public_key_file: str = ""             # backend's X25519 key for encrypting review photos
    sync_timeout_s: float = 30.0          # one record batch upload (bigger than a single lookup)
    batch_size: int = 200                 # records per upload; a rejected batch is split to find the bad one
    idle_poll_s: float = 15.0             # the sync worker looks at the outbox at least this often
    backoff_initial_s: float = 1.0        # first retry delay after a failed upload (doubles, with jitter)
    backoff_max_s: float = 300.0          # longest retry delay while the backend is unreachable

    def validate(self) -> tuple[str, str] | None:
        if not self.url.startswith(("http://", "https://")):
            return "url", "expected an http:// or https:// address, e.g. \"https://backend.example\""
        if self.timeout_s <= 0 or self.sync_timeout_s <= 0:
            return "timeout_s", "expected a positive number of seconds"
        if not 1 <= self.batch_size <= 1000:
            return "batch_size", "expected 1 to 1000 records"
        if not 0 < self.backoff_initial_s <= self.backoff_max_s:
            return "backoff_initial_s", "expected a positive delay not above backoff_max_s"
        return None


@dataclass(frozen=True)
class StoreSection:
    path: str = "kiosk.sqlite3"           # relative to kiosk.data_dir
    retention_days: int = 30              # synced records are purged after this many days
    capture_retention_hours: int = 0      # encrypted review captures kept after sync (0 = none)
    key_file: str = "keys/kiosk_ed25519.key"  # the kiosk's signing key (0600), relative to kiosk.data_dir

    def validate(self) -> tuple[str, str] | None:
        if self.retention_days < 1:
            return "retention_days", "expected at least 1 day (synced records are kept for audit)"
        if self.capture_retention_hours < 0:
            return "capture_retention_hours", "expected 0 or more hours"
        return None


@dataclass(frozen=True)
class PolicySection:
    initial_pin: str = "123456"           # region's initial card PIN: only queries until changed
    max_step_failures: int = 3            # any identity step failing this often -> go to the counter
    certification_period: Literal["year", "half_year", "quarter"] = "year"
    allow_recertify_in_period: bool = False
    hotline: str = "12333"

    def validate(self) -> tuple[str, str] | None:
        if not (len(self.initial_pin) == 6 and self.initial_pin.isdigit()):
            return "initial_pin", "expected exactly six digits as a string, e.g. \"123456\""
        if self.max_step_failures < 1:
            return "max_step_failures", "expected at least 1"
        return None


@dataclass(frozen=True)
class Bank:
    code: str
    name_zh: str
    name_en: str
    connected: bool = True
    note_zh: str = ""                     # shown when not connected
    note_en: str = ""


@dataclass(frozen=True)
class FieldSection:
    operator_lock_s: int = 300            # operator session locks after this long idle
    battery_min_percent: int = 20         # refuse to start a certification below this
    roster_expiry_days: int = 14          # a downloaded roster is refused and purged after this many days
    require_operator: bool = True         # field profile: no citizen service before an operator signs in
    districts: str = ""                   # default districts offered for the roster download, comma-separated
    operator_list_max_age_days: int = 30  # the downloaded authorised-operators list is refused after this
    signing_key: str = ""                 # pinned base64 Ed25519 key of the operator list; "" = fetched once
    assisted_policy: Literal["off", "passive_attested"] = "passive_attested"  # who cannot do the head moves
    power_supply_dir: str = "/sys/class/power_supply"  # where the platform reports the battery
    roster_kdf_n: int = 32768             # scrypt cost of the key that unlocks the roster (power of two)
    purge_every_s: int = 3600             # how often the roster expiry is checked while running

    def validate(self) -> tuple[str, str] | None:
        if self.operator_lock_s < 30:
            return "operator_lock_s", "expected at least 30 seconds"
        if not 0 <= self.battery_min_percent <= 100:
            return "battery_min_percent", "expected a percentage 0..100"
        if self.roster_expiry_days < 1:
            return "roster_expiry_days", "expected at least 1 day"
        if self.roster_kdf_n < 1024 or self.roster_kdf_n & (self.roster_kdf_n - 1):
            return "roster_kdf_n", "expected a power of two, at least 1024 (e.g. 32768)"
        return None


@dataclass(frozen=True)
class IdcardSection:
    """The resident ID-card reader (SAM interface, docs/idcard.md)."""

    enabled: bool = True                              # false: the kiosk has no ID-card reader
    backend: Literal["serial", "simulator"] = "simulator"
    port: str = "/dev/sscard-idr"                     # stable udev symlink on a real kiosk
    baudrate: int = 115200                            # the SAM's UART: 115200 8N1 on current readers
    poll_interval_s: float = 0.25                     # "find card" every this long between commands
    answer_timeout_s: float = 0.5                     # find / select / SAM id: wait this long for an answer
    read_timeout_s: float = 3.0                       # text+photo read (about 1 s on a real card)
    retries: int = 2                                  # re-asks after a damaged answer
    reconnect_max_backoff_s: float = 30.0

    def validate(self) -> tuple[str, str] | None:
        if self.baudrate not in (9600, 19200, 38400, 57600, 115200):
            return "baudrate", "expected one of 9600, 19200, 38400, 57600, 115200"
        if not 0.05 <= self.poll_interval_s <= 5:
            return "poll_interval_s", "expected 0.05 to 5 seconds"
        if self.answer_timeout_s <= 0 or self.read_timeout_s < 1 or self.retries < 0:
            return "read_timeout_s", "expected answer_timeout_s > 0, read_timeout_s >= 1 and retries >= 0"
        return None


@dataclass(frozen=True)
class HeartbeatSection:
    enabled: bool = True                  # send a signed heartbeat to the backend (docs/console.md)
    interval_s: float = 60.0              # on this timer, and at once on every device status change

    def validate(self) -> tuple[str, str] | None:
        if self.interval_s < 1:
            return "interval_s", "expected at least 1 second"
        return None


# [ecard]: what a visit signed in with the electronic social-security card may start (docs/ecard.md).
ECARD_VISIT_CHOICES = ("card_status", "retiree_certification", "real_name", "ecard_pin", "card_loss")
CARD_WRITING_SERVICES = ("pin_change", "pin_reset")     # they write the card: the card must be there


@dataclass(frozen=True)
class EcardSection:
    # Service keys an e-card visit may start; the others say what they need. Never the card-writing ones.
    visit_services: list[str] = field(default_factory=lambda: [
        "card_status", "retiree_certification", "real_name", "ecard_pin", "card_loss"])

    def validate(self) -> tuple[str, str] | None:
        for key in self.visit_services:
            if key in CARD_WRITING_SERVICES:
                return "visit_services", (f"{key!r} writes the social security card, so it needs the card "
                                          "in the reader: remove it from the e-card list")
            if key not in ECARD_VISIT_CHOICES:
                return "visit_services", f"unknown service {key!r}; expected some of {list(ECARD_VISIT_CHOICES)}"
        if len(set(self.visit_services)) != len(self.visit_services):
            return "visit_services", "a service is listed twice"
        return None


@dataclass(frozen=True)
class KioskConfig:
    kiosk: KioskSection = field(default_factory=KioskSection)
    ui: UiSection = field(default_factory=UiSection)
    logging: LoggingSection = field(default_factory=LoggingSection)
    smartcard: SmartcardSection = field(default_factory=SmartcardSection)
    pinpad: PinpadSection = field(default_factory=PinpadSection)
    camera: CameraSection = field(default_factory=CameraSection)
    face: FaceSection = field(default_factory=FaceSection)
    backend: BackendSection = field(default_factory=BackendSection)
    store: StoreSection = field(default_factory=StoreSection)
    policy: PolicySection = field(default_factory=PolicySection)
    banks: list[Bank] = field(default_factory=list)
    idcard: IdcardSection = field(default_factory=IdcardSection)
    heartbeat: HeartbeatSection = field(default_factory=HeartbeatSection)   # before `field`, which shadows field()
    ecard: EcardSection = field(default_factory=EcardSection)
    field: FieldSection = field(default_factory=FieldSection)
