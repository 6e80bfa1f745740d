"""A field kiosk as its own process, driven line by line over stdin/stdout (JSON), so the day test
can kill it mid-way and start it again like a power cut or a crash.

    python tests/field/field_proc.py SITE.toml
    -> {"ready": true, "problems": [...]}
    <- {"cmd": "sign_in_password", "operator_id": "op-7", "password": "..."}
    -> {"ok": true, ...} | {"ok": false, "code": "...", "error": "..."}

The kiosk is the real one: kiosk.app.build_kiosk on the field profile plus the test's site file
(virtual card, simulated PIN pad, a recorded camera whose still image the test swaps per person).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kiosk.app import build_kiosk  # noqa: E402
from kiosk.config import load_config  # noqa: E402
from kiosk.field.card_signin import staff_card_sign_in  # noqa: E402
from kiosk.field.certify import AssistedCase, FieldError, consent  # noqa: E402
from kiosk.field.operators import SignInError  # noqa: E402
from kiosk.field.service import start_field  # noqa: E402
from kiosk.field.vault import RosterError  # noqa: E402


def main() -> int:
    config = load_config("field", Path(sys.argv[1]))
    services = build_kiosk(config)
    field = start_field(services)
    camera_image = Path(config.camera.source)
    out = sys.stdout

    def reply(obj: dict) -> None:
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()

    reply({"ready": True, "problems": services.problems})
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            reply({"ok": True, **handle(cmd, services, field, camera_image)})
        except (FieldError, SignInError, RosterError) as exc:
            reply({"ok": False, "code": exc.code, "error": str(exc)})
        except SystemExit:
            break
        except Exception as exc:
            reply({"ok": False, "code": "exception", "error": f"{type(exc).__name__}: {exc}",
                   "trace": traceback.format_exc()[-1500:]})
    field.stop()
    services.close()
    return 0


def handle(cmd: dict, services, field, camera_image: Path) -> dict:  # type: ignore[no-untyped-def]
    name = cmd["cmd"]
    if name == "refresh_operators":
        return {"operators": field.refresh_operators()}
    if name == "sign_in_password":
        password = bytearray(cmd["password"].encode())
        try:
            session = field.gate.sign_in_password(cmd["operator_id"], password)
            if cmd.get("open_roster") and field.vault.info() is not None:
                field.certifier.open_roster(password)
        finally:
            password[:] = b"\x00" * len(password)
        return {"operator_id": session.operator_id, "state": field.gate.state().value}
    if name == "sign_in_card":
        from drivers.smartcard.virtual.card import CardConfig, sample_holder

        services.virtual_cards.insert_card(CardConfig(pin=cmd["card_pin"], holder=sample_holder("周*", cmd["ssn"])))
        time.sleep(0.5)

        def type_pin() -> None:
            time.sleep(1.0)
            services.pinpad_simulator.type_keys(cmd["typed_pin"], gap_s=0.02)
            services.pinpad_simulator.press("enter")

        threading.Thread(target=type_pin, daemon=True).start()
        try:
            session = staff_card_sign_in(field.gate, services.card, services.pinpad, pin_timeout_s=20)
        finally:
            services.virtual_cards.remove_card()
        return {"operator_id": session.operator_id, "method": session.method}
    if name == "download_roster":
        password = bytearray(cmd["password"].encode())
        try:
            roster = field.certifier.download_roster(cmd["districts"], password)
        finally:
            password[:] = b"\x00" * len(password)
        return {"count": len(roster.entries)}
    if name == "open_roster":
        password = bytearray(cmd["password"].encode())
        try:
            roster = field.certifier.open_roster(password)
        finally:
            password[:] = b"\x00" * len(password)
        return {"count": len(roster.entries)}
    if name == "certify":
        tmp = camera_image.with_suffix(".tmp.jpg")
        shutil.copyfile(cmd["image"], tmp)
        os.replace(tmp, camera_image)
        person = field.certifier.find(cmd["id_number"])
        from models.policy import FaceAttempts

        assisted = AssistedCase(cmd["assisted"], attested=True) if cmd.get("assisted") else None
        result = field.certifier.certify(person, attempts=FaceAttempts(cmd.get("attempts", 1)),
                                         consent=consent(True), assisted=assisted)
        return {"outcome": result.outcome, "face": result.face_outcome, "on_roster": person.on_roster,
                "record": result.record.id if result.record else None, "match": result.match_score,
                "live": result.liveness_score}
    if name == "flow_certify":
        # The flows engineer's retiree certification on the field profile: roster first (offline),
        # the operator from the gate, ID typed on the PIN pad simulator, answers scripted.
        from kiosk.flows.base import FlowRunner
        from kiosk.flows.registry import start_service
        from kiosk.flows.scripted import ScriptedPresenter, simulator_typist

        tmp = camera_image.with_suffix(".tmp.jpg")
        shutil.copyfile(cmd["image"], tmp)
        os.replace(tmp, camera_image)
        deps = field.flow_deps(services)
        presenter = ScriptedPresenter(answers={"identify": "id_number", "confirm_name": "yes", "consent": "accept"},
                                      entries=[("id_number", cmd["id_number"])],
                                      typist=simulator_typist(services.pinpad_simulator))
        finished = threading.Event()
        result: dict = {}

        def on_done(outcome, error) -> None:  # type: ignore[no-untyped-def]
            result.update(outcome=outcome, error=error)
            finished.set()

        presenter.token = start_service(FlowRunner(), "retiree_certification", deps, presenter, on_done)
        if not finished.wait(90):
            raise TimeoutError("the retiree certification did not finish")
        if result["error"] is not None:
            raise result["error"]
        outcome = result["outcome"]
        asked = [s.data.get("name") for s in presenter.of_kind("ask") if s.data.get("name")]
        return {"flow_ok": bool(outcome and outcome.ok), "flow_code": getattr(outcome, "code", None),
                "name_shown": asked[0] if asked else None}
    if name == "skip":
        person = field.certifier.find(cmd["id_number"])
        return {"record": field.certifier.skip(person, cmd["reason"]).id}
    if name == "report":
        r = field.day_report()
        return {"certified": r.certified, "failed": r.failed, "skipped": r.skipped,
                "pending_review": r.pending_review, "pending_sync": r.pending_sync, "conflicts": r.conflicts,
                "lines": len(r.lines)}
    if name == "export":
        csv_path, pdf_path = field.export_report(Path(cmd["folder"]))
        return {"csv": str(csv_path), "pdf": str(pdf_path)}
    if name == "wait_synced":
        deadline = time.monotonic() + cmd.get("timeout", 30)
        services.sync.worker.sync_now()
        while time.monotonic() < deadline:
            status = services.sync.worker.snapshot()
            if status.queued == 0:
                return {"queued": 0, "attention": len(status.attention)}
            time.sleep(0.2)
        status = services.sync.worker.snapshot()
        return {"queued": status.queued, "last_error": status.last_error}
    if name == "queued":
        return {"queued": services.sync.worker.snapshot().queued}
    if name == "conflicts":
        return {"conflicts": [{"record": c.record_id, "person": c.person, "outcome": c.outcome}
                              for c in field.conflicts()]}
    if name == "battery":
        b = field.battery()
        return {"percent": b.percent, "charging": b.charging}
    if name == "state":
        return {"state": field.gate.state().value,
                "roster_open": field.gate.session is not None and field.gate.session.roster is not None}
    if name == "sign_out":
        field.gate.sign_out()
        return {"state": field.gate.state().value}
    if name == "exit":
        raise SystemExit(0)
    raise ValueError(f"unknown command {name}")


if __name__ == "__main__":
    sys.exit(main())
