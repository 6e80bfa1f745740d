"""The field profile's parts, built on what the composition root already started.

    from kiosk.field.service import start_field
    field = start_field(services)          # after build_kiosk(config); services.sync must be up
    ...
    field.stop()                           # before services.close()

``FieldKiosk`` holds the operator gate, the roster vault, the certifier, the battery reader, the
conflict list and the day report; the ui/field screens talk to it only.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.field.battery import BatteryStatus, read_battery
from kiosk.field.certify import FieldCertifier
from kiosk.field.operators import OperatorDirectory, OperatorGate, OperatorState
from kiosk.field.report import DayReport, build_day_report
from kiosk.field.vault import RosterVault, enable_secure_delete
from kiosk.outbox import Outbox
from kiosk.privacy import mask_id_number

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Conflict:
    """A synced record the bureau answered with something other than ok, for the operator's screen."""

    record_id: str
    created_at: str
    person: str                       # masked ID number
    outcome: str                      # already_certified | deceased | unknown_person | ...
    message: str                      # the bureau's sentence (English; the UI shows a translated title)


class FieldKiosk:
    def __init__(self, *, config: Any, store: Any, client: Any, worker: Any, face: Any, camera: Any,
                 card: Any = None, wall_clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        f = config.field
        self.config = config
        self.store = store
        self.client = client
        self.worker = worker
        self.outbox = Outbox(store)
        enable_secure_delete(store)
        self.directory = OperatorDirectory(store, pinned_key_b64=f.signing_key,
                                           max_age_days=f.operator_list_max_age_days, clock=wall_clock)
        self.gate = OperatorGate(self.directory, lock_after_s=f.operator_lock_s, clock=monotonic)
        signer = getattr(client, "signer", None)
        self.vault = RosterVault(store, expiry_days=f.roster_expiry_days, kdf_n=f.roster_kdf_n, clock=wall_clock,
                                 kiosk_key=signer.x25519_key() if signer is not None else None)
        self.certifier = FieldCertifier(store=store, gate=self.gate, vault=self.vault, face=face, camera=camera,
                                        client=client, face_config=config.face, field_config=f,
                                        battery=self.battery, card=card)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        store.on_commit(self._mark_from_records)
        # At start-up: an expired roster is deleted before anyone can sign in.
        self.vault.purge_if_expired()

    # -- background: roster expiry and the inactivity lock ---------------------------------------
    def start(self) -> FieldKiosk:
        every = max(1.0, float(self.config.field.purge_every_s))

        def loop() -> None:
            while not self._stop.wait(min(every, 5.0)):
                try:
                    self.gate.tick()
                    if self.vault.purge_if_expired() and self.gate.session is not None \
                            and self.gate.session.roster is not None:
                        self.gate.session.roster.wipe()
                        self.gate.session.roster = None
                except Exception:
                    log.exception("field housekeeping failed")

        self._thread = threading.Thread(target=loop, name="field-housekeeping", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.gate.sign_out()

    # -- status bar ----------------------------------------------------------------------------
    def battery(self) -> BatteryStatus:
        return read_battery(self.config.field.power_supply_dir)

    @property
    def operator_state(self) -> OperatorState:
        return self.gate.state()

    # -- the flows (kiosk/flows) on the field profile -------------------------------------------
    def flow_deps(self, services: Any) -> Any:
        """FlowDeps for a citizen flow: the roster first, then the backend, and the signed-in
        operator's id on every record. Raises SignInError when no operator is signed in (or the
        session is locked): on the field profile no citizen service starts before that."""
        from kiosk.field.templates import RosterTemplates
        from kiosk.flows.deps import FlowDeps
        from kiosk.flows.templates import BackendTemplates, FirstFound

        operator_id = None
        if self.config.field.require_operator or self.gate.session is not None:
            operator_id = self.gate.require_active().operator_id
        sources: list[Any] = [RosterTemplates(self.gate, self.vault)]
        if self.client is not None:
            sources.append(BackendTemplates(self.client))
        return FlowDeps.from_services(services, templates=FirstFound(sources), operator_id=operator_id)

    def _mark_from_records(self, refs: list[Any]) -> None:
        """After a flow's commit: mark roster persons done (the flows write their record without the
        roster's mark; reconcile() repeats this at every roster open, so a crash in between loses nothing)."""
        session = self.gate.session
        if session is not None and session.roster is not None and any(r.type == "certification" for r in refs):
            try:
                self.vault.reconcile(session.roster)
            except Exception:
                log.exception("roster marks not updated")

    # -- online chores -------------------------------------------------------------------------
    def refresh_operators(self) -> int:
        return self.directory.refresh(self.client)

    # -- after sync ----------------------------------------------------------------------------
    def conflicts(self, limit: int = 100) -> list[Conflict]:
        out = []
        for item in self.outbox.outcomes_needing_attention(limit):
            with self.store.read() as conn:
                row = conn.execute("SELECT envelope FROM outbox WHERE id = ?", (item.id,)).fetchone()
            payload = json.loads(row[0]).get("payload", {}) if row else {}
            out.append(Conflict(item.id, item.created_at, mask_id_number(str(payload.get("id_number", ""))),
                                item.outcome, item.message))
        return out

    def acknowledge_conflict(self, record_id: str) -> None:
        self.gate.require_active()
        self.outbox.acknowledge_outcome(record_id)

    def day_report(self, operator_id: str | None = None, now: float | None = None) -> DayReport:
        if operator_id is None:
            operator_id = self.gate.require_active().operator_id
        return build_day_report(self.store, operator_id, now=now)

    def export_report(self, folder: Path, operator_id: str | None = None) -> tuple[Path, Path]:
        from kiosk.field.report import export_csv, export_pdf

        report = self.day_report(operator_id)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"field-report-{report.day}-{report.operator_id}"
        return export_csv(report, folder / f"{stem}.csv"), export_pdf(report, folder / f"{stem}.pdf")


def start_field(services: Any, **clocks: Any) -> FieldKiosk:
    """From the composition root's KioskServices (sync, face, camera, card already started)."""
    if services.sync is None:
        raise RuntimeError("the field profile needs the local store and sync: see the problems list")
    sync = services.sync
    return FieldKiosk(config=services.config, store=sync.store, client=sync.client, worker=sync.worker,
                      face=services.face, camera=services.camera, card=services.card, **clocks).start()
