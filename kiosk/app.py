"""The composition root: the ONE place that turns the configuration into concrete devices.

Everything else in kiosk/ sees devices only through their protocols (drivers/*/api.py). Each
part starts on its own; a part that cannot start (no PIN pad on the port, models not installed,
backend down) is reported and left out, so the kiosk still comes up and `kiosk doctor` and the
UI can say what is wrong, instead of the whole kiosk refusing to start at 7 a.m.
"""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.api import CompletionCode
from kiosk.config import KioskConfig, resolve_path
from kiosk.flows.base import FlowRunner
from kiosk.session import SessionCore

log = logging.getLogger(__name__)

MARKER_FILE = "visit-in-progress"


@dataclass
class KioskServices:
    """What the UI holds for the life of the process."""

    config: KioskConfig
    session: SessionCore
    flows: FlowRunner
    devices: dict[str, Any] = field(default_factory=dict)   # name -> object with subscribe()
    card: Any = None                   # drivers.smartcard.api.CardService
    virtual_cards: Any = None          # demo: drivers.smartcard.factory.VirtualCards
    pinpad: Any = None                 # drivers.pinpad.api.PinPadService
    pinpad_simulator: Any = None       # demo: drivers.pinpad.simulator.PinPadSimulator
    camera: Any = None                 # drivers.camera.api.Camera
    face: Any = None                   # models.verifier.FaceVerificationService
    sync: Any = None                   # kiosk.sync.SyncService (store, client, worker)
    embedded_backend: Any = None       # demo: backend.embedded.EmbeddedBackend
    problems: list[str] = field(default_factory=list)        # parts that did not start, and why
    idcard: Any = None                 # drivers.idcard.api.IdCardReaderService
    idcard_simulator: Any = None       # demo: drivers.idcard.simulator.IdCardReaderSimulator
    heartbeat: Any = None              # kiosk.heartbeat.HeartbeatService (fleet page)
    headphones: Any = None             # drivers.headphone.api.HeadphoneJack (private audio, docs/voice.md)
    headphone_simulator: Any = None    # demo: drivers.headphone.simulator.HeadphoneJackSimulator
    _closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        """Stop everything in reverse order of start; never raises."""
        self.flows.cancel("shutdown")
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:
                log.exception("shutdown step failed")
        self._closers.clear()


def make_session(config: KioskConfig, clock: Any = None) -> SessionCore:
    data_dir = resolve_path(config.kiosk.data_dir)
    kwargs: dict[str, Any] = {"result_timeout_s": config.ui.result_timeout_s,
                              "marker_path": data_dir / MARKER_FILE,
                              "ecard_services": config.ecard.visit_services}
    if clock is not None:
        kwargs["clock"] = clock
    return SessionCore(config.ui.idle_timeout_s, config.ui.countdown_s, **kwargs)


def build_kiosk(config: KioskConfig, *, session: SessionCore | None = None) -> KioskServices:
    services = KioskServices(config, session or make_session(config), FlowRunner())
    for part in (_start_backend_and_sync, _start_card, _start_pinpad, _start_camera_and_face, _start_idcard,
                 _start_headphones):
        try:
            part(services)
        except Exception as exc:
            # Each part's own errors are worded for the operator; keep the kiosk up without it.
            message = f"{part.__name__.removeprefix('_start_')}: {exc}"
            log.error("part did not start", extra={"part": part.__name__, "error": str(exc)})
            services.problems.append(message)
    if services.card is not None and services.pinpad is not None:
        _load_pin_working_key(services)
    _demo_ecard_pin_key(services)
    _start_heartbeat(services)
    return services


def _start_heartbeat(services: KioskServices) -> None:
    """The fleet heartbeat (kiosk/heartbeat.py): after the devices, so it sees them all."""
    from kiosk.heartbeat import start_heartbeat

    try:
        beat = start_heartbeat(services)
    except Exception as exc:
        services.problems.append(f"heartbeat: {exc}")
        return
    if beat is not None:
        services.heartbeat = beat
        services._closers.append(beat.stop)      # closers run in reverse: it stops before sync closes


def _start_backend_and_sync(services: KioskServices) -> None:
    config = services.config
    base_url = None
    if config.backend.embedded:
        from backend.embedded import EmbeddedBackend
        from kiosk.enroll import enroll

        backend = EmbeddedBackend(data_dir=resolve_path(config.kiosk.data_dir) / "backend")
        port = urllib.parse.urlsplit(config.backend.url).port or 0
        try:
            base_url = backend.start(port=port)
        except OSError:
            base_url = backend.start(port=0)   # the configured port is taken: any free one will do
        services.embedded_backend = backend
        services._closers.append(backend.stop)
        # The demo enrolls itself: a real kiosk is enrolled once by an operator (`kiosk enroll`).
        role = "field" if config.kiosk.profile == "field" else "office"
        _signer, answer = enroll(config, backend.enrollment_token(config.kiosk.id, role), base_url=base_url)
        log.info("demo kiosk enrolled at the embedded backend", extra={"answer": type(answer).__name__})
    from kiosk.sync import start_sync

    services.sync = start_sync(config, base_url=base_url)
    services._closers.append(services.sync.stop)
    # The citizen left: the backend's visit token for them stops working (issue 17, backend/visits.py).
    client = services.sync.client
    services.session.on_visit_end(lambda *_args: client.end_visit(wait=False))


def _start_card(services: KioskServices) -> None:
    from drivers.smartcard.factory import make_card_service

    c = services.config.smartcard
    card, virtual_cards = make_card_service(
        backend=c.backend, citizen_reader_pattern=c.citizen_reader_pattern,
        psam_reader_pattern=c.psam_reader_pattern, poll_timeout_ms=c.poll_timeout_ms,
        command_timeout_s=c.command_timeout_s, initial_pin=services.config.policy.initial_pin,
        apdu_trace=services.config.logging.apdu_trace, pin_algorithm=services.config.pinpad.pin_algorithm,
        max_pin_tries=c.max_pin_tries)
    card.start()
    services.card, services.virtual_cards = card, virtual_cards
    services.devices["smartcard"] = card
    services._closers.append(card.stop)


def _start_pinpad(services: KioskServices) -> None:
    from drivers.pinpad.factory import create_pinpad

    p = services.config.pinpad
    simulator_key = None
    if p.backend == "simulator":
        # The simulated pad holds the same TEST master key as the virtual PSAM, as if a key
        # ceremony had loaded it. Real pads get theirs in a ceremony, never from this code.
        from drivers.smartcard.virtual.keys import TEST_PAD_MASTER_KEY
        simulator_key = TEST_PAD_MASTER_KEY
    options = {name: getattr(p, name) for name in (
        "backend", "port", "baudrate", "protocol", "wire_form", "pin_timeout_s", "command_timeout_s",
        "reconnect_max_backoff_s") if hasattr(p, name)}
    extra = {"send_etx", "pin_block_format", "sm4_expansion", "answer_timeout_s", "retries", "ceremony_mode",
             "backspace_byte"}
    options.update({name: getattr(p, name) for name in extra if hasattr(p, name)})
    from kiosk.ecard.pad import KEY_SLOTS

    setup = create_pinpad(algorithm=p.pin_algorithm, simulator_master_key=simulator_key, key_slots=KEY_SLOTS,
                          **options)
    services.pinpad, services.pinpad_simulator = setup.service, setup.simulator
    services.devices["pinpad"] = setup.service
    services._closers.append(setup.close)


def _start_camera_and_face(services: KioskServices) -> None:
    from drivers.camera.factory import make_camera
    from models.factory import make_face_verifier

    c = services.config.camera
    source = str(resolve_path(c.source)) if c.source else ""
    camera = make_camera(backend=c.backend, device=c.device, width=c.width, height=c.height, fps=c.fps,
                         source=source, reopen_max_backoff_s=c.reopen_max_backoff_s)
    services.camera = camera
    services.devices["camera"] = camera
    f = services.config.face
    face = make_face_verifier(camera=camera, models_dir=resolve_path(f.models_dir), lazy=f.lazy_models,
                              release_after_s=f.release_models_after_s, runtime=f.runtime,
                              embedding_bf16=f.embedding_bf16, parallel=f.parallel)
    face.start()
    services.face = face
    services._closers.append(getattr(face.pipeline, "close", lambda: None))   # a lazy pipeline's timer
    services._closers.append(face.stop)                                      # (closers run in reverse)
    services._closers.append(camera.stop)


def _start_idcard(services: KioskServices) -> None:
    """The resident ID-card reader (docs/idcard.md); its reads are checked with the GB 11643 helper."""
    from drivers.idcard.factory import create_idcard_reader
    from kiosk.identity import id_number_valid

    c = services.config.idcard
    if not c.enabled:
        return
    setup = create_idcard_reader(
        backend=c.backend, port=c.port, baudrate=c.baudrate, poll_interval_s=c.poll_interval_s,
        answer_timeout_s=c.answer_timeout_s, read_timeout_s=c.read_timeout_s, retries=c.retries,
        reconnect_max_backoff_s=c.reconnect_max_backoff_s, id_number_check=id_number_valid)
    services.idcard, services.idcard_simulator = setup.service, setup.simulator
    services.devices["idcard"] = setup.service
    services._closers.append(setup.close)


def _start_headphones(services: KioskServices) -> None:
    """The headphone socket: private audio and the eyes-free visit (docs/voice.md). No socket found
    is no problem: the voice then stays public."""
    from drivers.headphone.factory import create_headphone_jack

    ui = services.config.ui
    if not ui.private_audio:
        return
    setup = create_headphone_jack(ui.headphone_jack, ui.headphone_jack_device)
    if setup.service is None:
        log.info("no headphone socket", extra={"detail": setup.detail})
        return
    services.headphones, services.headphone_simulator = setup.service, setup.simulator
    services.devices["headphones"] = setup.service
    services._closers.append(setup.close)


def _load_pin_working_key(services: KioskServices) -> None:
    """A fresh PIN working key from the PSAM, wrapped under the pad's master key, KCV-checked."""
    key = services.card.new_pin_working_key().wait(15)
    if key.code is not CompletionCode.SUCCESS or key.result is None:
        services.problems.append(f"pin working key: the PSAM did not make one ({key.error_code or key.code})")
        return
    loaded = services.pinpad.load_work_key("pin", key.result.wrapped, key.result.kcv).wait(15)
    if not loaded.ok:
        services.problems.append(f"pin working key: the PIN pad refused it ({loaded.error_code or loaded.code})")


def _demo_ecard_pin_key(services: KioskServices) -> None:
    """Demo only (simulated pad, embedded platform): the e-card PIN key ceremony's stand-in."""
    backend = services.embedded_backend
    if backend is None or services.pinpad_simulator is None:
        return
    from kiosk.ecard.pad import demo_ceremony

    problem = demo_ceremony(services.pinpad_simulator, backend.url, backend.operator_token,
                            services.config.kiosk.id, services.config.pinpad.pin_algorithm)
    if problem is not None:
        services.problems.append(problem)


def data_path(config: KioskConfig, name: str) -> Path:
    return resolve_path(config.kiosk.data_dir) / name
