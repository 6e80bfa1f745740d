"""A whole field day against the real backend on PostgreSQL, with the kiosk as its own process.

Online: operator list + roster download. Network cut (backend stopped): certifications from the
roster with recorded face images (live accepted, printed-photo attack refused, a person not on the
roster refused, battery too low refused). The kiosk process is killed mid-day and started again; the
operator signs in with the staff card and PIN (offline), opens the roster, certifies more (one
assisted case), skips one. Meanwhile the bureau records one person as deceased and another as
certified elsewhere. Reconnected: every result reaches the backend once, in order, with the
operator's id; the two conflicts come back; the day report adds up; CSV and PDF are written.
"""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fieldday import (
    OPERATOR_CARD_ID,
    OPERATOR_CARD_PIN,
    OPERATOR_PASSWORD,
    KioskProcess,
    face,
    operator_call,
    write_site,
)

from kiosk.flows.retiree import complete_id_number

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DISTRICT, OTHER = "天河区", "越秀区"
H = next(n for n in (complete_id_number(f"4401061947080{i:04d}") for i in range(100)) if n and n[-1] != "X")
A, B, C, D, E, F, G = ("440106195001011230", "440106195102021231", "440106194903031232", "440106195204041233",
                       "440104195305051234", "440106195406061235", "440106194807071236")


def _seed(backend, templates: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    def person(idn: str, name: str, tpl: str | None, district: str = DISTRICT) -> dict:
        return {"id_number": idn, "name": name, "retired": True, "certified_until": None, "district": district,
                "address": f"{district}某街{idn[-2:]}号", "face_template": tpl}

    operator_call(backend, "POST", "/v1/operator/seed", {"persons": [
        person(A, "王建国", templates["T1"]), person(B, "李秀英", templates["obama"]),
        person(C, "张桂兰", templates["obama3"]), person(D, "陈志强", templates["T1"]),
        person(E, "赵明", templates["T1"], OTHER), person(F, "刘芳", templates["T1"]),
        person(G, "黄淑珍", templates["obama"]), person(H, "胡永福", templates["T1"])]})
    operator_call(backend, "PUT", "/v1/operator/field-operators/op-7",
                  {"name": "周敏", "password": OPERATOR_PASSWORD, "card_id_number": OPERATOR_CARD_ID,
                   "districts": [DISTRICT]})
    operator_call(backend, "PUT", "/v1/operator/field-operators/op-8",
                  {"name": "吴刚", "password": "another-pass-99", "districts": [OTHER]})


def test_a_whole_field_day(backend, templates, models_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.config import load_config
    from kiosk.enroll import enroll

    _seed(backend, templates)
    site = write_site(tmp_path, backend.url, models_dir)
    _signer, answer = enroll(load_config("field", site), backend.enrollment_token("field-kiosk-01"))
    assert type(answer).__name__ == "Enrolled", answer
    log = tmp_path / "kiosk.log"

    # -- morning, at the office (online) ---------------------------------------------------------
    k = KioskProcess(site, log)
    assert k.call("certify", id_number=A, image=str(face("silentface/image_T1.jpg")))["code"] == "signed_out"
    assert k.call("refresh_operators")["operators"] == 2
    wrong = k.call("sign_in_password", operator_id="op-7", password="not-the-password")
    assert (wrong["ok"], wrong["code"]) == (False, "wrong_credentials")
    assert k.call("sign_in_password", operator_id="op-7", password=OPERATOR_PASSWORD)["state"] == "active"
    assert k.call("download_roster", districts=[DISTRICT], password=OPERATOR_PASSWORD)["count"] == 7
    assert k.call("wait_synced", timeout=15)["queued"] == 0          # also caches the backend's review key

    # -- in the village (no network) -------------------------------------------------------------
    backend.stop()
    a = k.call("certify", id_number=A, image=str(face("silentface/image_T1.jpg")))
    assert (a["outcome"], a["face"], a["on_roster"]) == ("passed", "match", True), a
    b = k.call("certify", id_number=B, image=str(face("silentface/image_F1.jpg")))   # printed photo
    assert b["outcome"] == "failed" and b["face"] != "match", b
    e = k.call("certify", id_number=E, image=str(face("silentface/image_T1.jpg")))   # not on the roster
    assert (e["ok"], e["code"]) == (False, "not_on_roster_offline"), e
    (tmp_path / "power" / "BAT0" / "capacity").write_text("12\n")
    low = k.call("certify", id_number=C, image=str(face("face_recognition/obama2.jpg")))
    assert (low["ok"], low["code"]) == (False, "battery_low"), low
    assert k.call("battery") == {"ok": True, "percent": 12, "charging": False}
    (tmp_path / "power" / "BAT0" / "capacity").write_text("64\n")
    assert k.call("queued")["queued"] == 2
    k.kill()                                                           # the kiosk dies mid-day

    # -- restarted, still offline: staff card + PIN, then the roster password --------------------
    k = KioskProcess(site, log)
    assert k.call("state") == {"ok": True, "state": "signed_out", "roster_open": False}
    assert k.call("queued")["queued"] == 2                             # nothing lost, nothing doubled
    bad_pin = k.call("sign_in_card", ssn=OPERATOR_CARD_ID, card_pin=OPERATOR_CARD_PIN, typed_pin="135790")
    assert (bad_pin["ok"], bad_pin["code"]) == (False, "wrong_credentials"), bad_pin
    card = k.call("sign_in_card", ssn=OPERATOR_CARD_ID, card_pin=OPERATOR_CARD_PIN, typed_pin=OPERATOR_CARD_PIN)
    assert (card["operator_id"], card["method"]) == ("op-7", "card"), card
    assert k.call("certify", id_number=C, image=str(face("face_recognition/obama2.jpg")))["code"] == "roster_locked"
    assert k.call("open_roster", password=OPERATOR_PASSWORD)["count"] == 7
    again = k.call("certify", id_number=A, image=str(face("silentface/image_T1.jpg")))
    assert again["code"] == "already_done", again
    c = k.call("certify", id_number=C, image=str(face("face_recognition/obama2.jpg")))
    assert c["outcome"] == "passed", c
    d = k.call("certify", id_number=D, image=str(face("silentface/image_T1.jpg")))
    assert d["outcome"] == "passed", d
    assert k.call("skip", id_number=F, reason="not_home")["ok"]
    g = k.call("certify", id_number=G, image=str(face("face_recognition/obama2.jpg")), assisted="bedridden")
    assert g["outcome"] == "pending_review", g
    # The flows' own retiree certification, offline from this roster, with the operator on the record.
    h = k.call("flow_certify", id_number=H, image=str(face("silentface/image_T1.jpg")), timeout_s=120)
    assert (h["flow_ok"], h["name_shown"]) == (True, "胡*福"), h
    assert k.call("certify", id_number=H, image=str(face("silentface/image_T1.jpg")))["code"] == "already_done"
    report = k.call("report")
    assert {key: report[key] for key in ("certified", "failed", "skipped", "pending_review", "pending_sync",
                                         "conflicts")} == {"certified": 4, "failed": 1, "skipped": 1,
                                                           "pending_review": 1, "pending_sync": 7, "conflicts": 0}

    # Meanwhile at the bureau: C died, D was certified at an office kiosk.
    from backend.db import persons

    with backend.engine().begin() as conn:
        conn.execute(persons.update().where(persons.c.id_number == C).values(deceased=True))
        conn.execute(persons.update().where(persons.c.id_number == D)
                     .values(certified_until=date.today() + timedelta(days=200)))

    # -- back online ---------------------------------------------------------------------------
    backend.start()
    assert k.call("wait_synced", timeout=30)["queued"] == 0
    conflicts = {item["outcome"]: item["person"] for item in k.call("conflicts")["conflicts"]}
    assert conflicts == {"deceased": "4401**********1232", "already_certified": "4401**********1233"}
    report = k.call("report")
    assert (report["pending_sync"], report["conflicts"], report["certified"]) == (0, 2, 4)
    exported = k.call("export", folder=str(tmp_path / "reports"))
    assert k.call("sign_out")["state"] == "signed_out"
    assert k.call("certify", id_number=D, image=str(face("silentface/image_T1.jpg")))["code"] == "signed_out"
    k.exit()

    # The backend holds each result once, in the kiosk's order, each with the operator's id.
    from backend.db import records

    with backend.engine().connect() as conn:
        rows = conn.execute(sa.select(records.c.id, records.c.seq, records.c.type, records.c.operator_id,
                                      records.c.person_id, records.c.outcome, records.c.envelope)
                            .where(records.c.kiosk_id == "field-kiosk-01").order_by(records.c.seq)).all()
    assert [r.person_id for r in rows] == [A, B, C, D, F, G, H]
    assert len({r.id for r in rows}) == 7 and all(r.operator_id == "op-7" for r in rows)
    results = {r.person_id: (r.type, json.loads(r.envelope)["payload"]["result"], r.outcome) for r in rows}
    assert results == {A: ("certification", "passed", "ok"), B: ("certification", "failed", "ok"),
                       C: ("certification", "passed", "deceased"), D: ("certification", "passed", "already_certified"),
                       F: ("field_visit", "skipped", "ok"), G: ("certification", "pending_review", "ok"),
                       H: ("certification", "passed", "ok")}
    assisted = json.loads(rows[-2].envelope)["payload"]
    assert assisted["assisted"]["reason"] == "bedridden" and assisted["assisted"]["attested_by"] == "op-7"
    assert assisted["capture"]["enc"] == "x25519-hkdf-sha256-aesgcm"          # sealed for the reviewers
    with backend.engine().connect() as conn:
        certified_until = dict(conn.execute(sa.select(persons.c.id_number, persons.c.certified_until)
                                            .where(persons.c.id_number.in_([A, B]))).all())
    assert certified_until[A] is not None and certified_until[B] is None

    # The exported report: CSV rows per visit, masked; a PDF that renders.
    with open(exported["csv"], encoding="utf-8-sig") as fh:
        table = list(csv.reader(fh))
    text = json.dumps(table, ensure_ascii=False)
    assert "4401**********1230" in text and A not in text and "王建国" not in text
    assert sum(1 for row in table if row and row[0][:2].isdigit() and ":" in row[0]) == 7
    import shutil

    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: run `bash scripts/setup.sh` (installs poppler-utils)", pytrace=False)
    png = tmp_path / "reports" / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", exported["pdf"], str(png)], check=True,
                   timeout=60)
    assert (tmp_path / "reports" / "page-1.png").stat().st_size > 5000


def test_the_operator_api_keeps_only_hashes_and_refuses_bad_accounts(backend) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from kiosk.backend_client import BackendClient
    from kiosk.field.online import fetch_operator_list, fetch_signing_key
    from kiosk.signing import create_key

    headers = {"Authorization": f"Bearer {backend.operator_token}"}
    short = httpx.put(f"{backend.url}/v1/operator/field-operators/op-9", json={"name": "x", "password": "short"},
                      headers=headers, timeout=10)
    assert short.status_code == 422 and "password" in short.json()["reason"]
    nothing = httpx.put(f"{backend.url}/v1/operator/field-operators/op-9", json={"name": "x"}, headers=headers,
                        timeout=10)
    assert nothing.status_code == 422
    anonymous = httpx.put(f"{backend.url}/v1/operator/field-operators/op-9", json={"name": "x", "password": "x" * 9},
                          timeout=10)
    assert anonymous.status_code == 401
    assert operator_call(backend, "PUT", "/v1/operator/field-operators/op-9",
                         {"name": "孙丽", "password": "secret-pass-9", "card_id_number": "44010619900101123X"}
                         )["status"] in ("created", "updated")
    unsigned = httpx.get(f"{backend.url}/v1/field/operators", timeout=10)
    assert unsigned.status_code == 401                       # only enrolled kiosks get the list
    with backend.engine().connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash, card_id_sha256 FROM field_operators "
                                      "WHERE operator_id = 'op-9'")).one()
    assert stored[0].startswith("scrypt$") and "secret-pass-9" not in stored[0] and "1123X" not in stored[1]

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        signer = create_key(Path(tmp) / "k.key")
        client = BackendClient(backend.url, "field-kiosk-api", signer)
        assert type(client.enroll(signer.public_key_b64, backend.enrollment_token("field-kiosk-api"))).__name__ \
            == "Enrolled"
        key = fetch_signing_key(client)
        document = fetch_operator_list(client)
        client.close()
    assert key and document is not None
    text = json.dumps(document, ensure_ascii=False)
    assert "secret-pass-9" not in text and "44010619900101123X" not in text and "孙丽" in text
