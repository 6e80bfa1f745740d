"""The console in a real browser: Debian's Chromium driven by Playwright, against the real backend
on PostgreSQL and a real field kiosk process (kiosk.app.build_kiosk, field profile, simulated card
reader, PIN pad and camera, real face models).

The kiosk certifies a bedridden person (assisted case: the decision frame is sealed for the
bureau), syncs, and sends heartbeats. Then: a reviewer signs in with password + TOTP, opens the
sealed capture once (logged), approves with a reason, and the decision flows back to the kiosk
side and the operator API; the reviewer is refused the administrator pages; a forged CSRF token is
refused; the cookie of a signed-out session no longer works; the auditor reads the log and cannot
change it; the fleet operator sees the kiosk go offline when its pad is unplugged and exports the
figures as CSV. With CONSOLE_SCREENSHOTS=DIR every page is saved as a PNG there (docs/screenshots).
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from consolekit import OPERATOR_TOKEN, PASSWORD, code_for

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "field"))
sys.path.insert(0, str(ROOT / "tests" / "sync"))

from fieldday import KioskProcess, face, models_dir, templates, write_site  # noqa: E402, F401

from backend.console.tables import console_audit, review_decisions  # noqa: E402
from backend.db import persons  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PERSON = "440106194807071236"            # a bedridden retiree on the roster
OPERATOR_PASSWORD = "field-pass-2026"
SHOTS = Path(os.environ["CONSOLE_SCREENSHOTS"]) if os.environ.get("CONSOLE_SCREENSHOTS") else None


class ConsoleKiosk(KioskProcess):
    """tests/console/console_kiosk_proc.py: field_proc's commands plus unplug_pad and heartbeats."""

    def __init__(self, site: Path, log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "console" / "console_kiosk_proc.py"),
                                      str(site)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=log.open("ab"), cwd=ROOT, text=True,
                                     env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        ready = self._read(120)
        assert ready.get("ready"), ready


@pytest.fixture(scope="module")
def browser() -> Iterator:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/setup.sh` (installs Debian's chromium)", pytrace=False)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def world(console_backend, templates, models_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]  # noqa: F811
    """A field kiosk that certified a bedridden person (pending review) and synced it."""
    from backend.field import upsert_operator
    from backend.seed import apply_seed
    from kiosk.config import load_config
    from kiosk.enroll import enroll

    services = console_backend.services
    apply_seed(services.engine, {"persons": [
        {"id_number": PERSON, "name": "黄淑珍", "retired": True, "certified_until": None, "district": "天河区",
         "address": "天河区某街36号", "face_template": templates["obama"]}]})
    upsert_operator(services, "op-7", {"name": "周敏", "password": OPERATOR_PASSWORD, "districts": ["天河区"]})
    tmp = tmp_path_factory.mktemp("kiosk")
    site = write_site(tmp, console_backend.url, models_dir)
    site.write_text(site.read_text() + "\n[heartbeat]\ninterval_s = 30.0\n")
    from backend.auth import issue_enrollment_token

    _signer, answer = enroll(load_config("field", site), issue_enrollment_token(services, "field-kiosk-01", role="field")["token"])
    assert type(answer).__name__ == "Enrolled", answer
    kiosk = ConsoleKiosk(site, tmp / "kiosk.log")
    try:
        assert kiosk.call("refresh_operators")["operators"] == 1
        assert kiosk.call("sign_in_password", operator_id="op-7", password=OPERATOR_PASSWORD)["state"] == "active"
        assert kiosk.call("download_roster", districts=["天河区"], password=OPERATOR_PASSWORD)["count"] == 1
        assert kiosk.call("wait_synced", timeout=15)["queued"] == 0          # caches the review key
        done = kiosk.call("certify", id_number=PERSON, image=str(face("face_recognition/obama2.jpg")),
                          assisted="bedridden")
        assert done["outcome"] == "pending_review", done
        assert kiosk.call("wait_synced", timeout=20)["queued"] == 0
        yield {"kiosk": kiosk, "record": done["record"], "site": site, "tmp": tmp}
    finally:
        kiosk.exit()


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)


def _sign_in(browser, backend, user: str, step: int = 0):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{backend.url}/console/")
    assert page.url.endswith("/console/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.fill("#code", code_for(user, backend, step))
    if user == "rita" and step == 0:
        _shot(page, "01-sign-in")
    page.click("#sign-in")
    page.wait_for_load_state()
    assert "/console/login" not in page.url, page.content()[:2000]
    return context, page


def _audit(backend) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with backend.services.engine.connect() as conn:
        return [(r.username, r.action, r.target) for r in conn.execute(sa.select(console_audit)
                                                                         .order_by(console_audit.c.id))]


def test_reviewer_opens_the_sealed_capture_once_and_approves(browser, console_backend, world) -> None:  # type: ignore[no-untyped-def]
    record = world["record"]
    context, page = _sign_in(browser, console_backend, "rita")
    assert page.url.endswith("/console/review")
    row = page.locator("#queue tbody tr")
    assert row.count() == 1 and "4401**********1236" in row.inner_text() and PERSON not in page.content()
    assert "协助认证" in row.inner_text()
    _shot(page, "02-review-queue")
    row.locator("a").click()
    assert page.locator("#capture").count() == 0               # nothing decrypted before asking
    page.click("#open-capture")
    page.wait_for_selector("#capture")
    assert page.evaluate("document.getElementById('capture').naturalWidth") > 50   # a real JPEG
    assert PERSON not in page.url and PERSON not in page.content()      # no ID number in URLs or pages
    _shot(page, "03-review-capture")
    assert ("rita", "capture_viewed", record) in _audit(console_backend)
    page.fill("#reason", "卧床老人，照片与登记照一致，经办人已证明")
    page.click("#approve")
    page.wait_for_selector("#decided")
    assert "已通过" in page.inner_text("#decided")
    _shot(page, "04-review-decided")
    with console_backend.services.engine.connect() as conn:
        decision = conn.execute(sa.select(review_decisions).where(review_decisions.c.record_id == record)) \
            .mappings().one()
        until = conn.execute(sa.select(persons.c.certified_until).where(persons.c.id_number == PERSON)).scalar()
    assert decision["decision"] == "approved" and decision["decided_by"] == "rita"
    assert until is not None and decision["certified_until"] == until
    # The decision flows back: to reports (operator API) and to the kiosk (signed request).
    reports = httpx.get(f"{console_backend.url}/v1/operator/review-decisions",
                        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}, timeout=10).json()
    assert [(d["record_id"], d["decision"]) for d in reports["decisions"]] == [(record, "approved")]
    from kiosk.backend_client import BackendClient
    from kiosk.config import load_config
    from kiosk.signing import key_path, load_signer

    config = load_config("field", world["site"])
    signer = load_signer(key_path(Path(config.kiosk.data_dir), config.store.key_file))
    with BackendClient(console_backend.url, "field-kiosk-01", signer) as client:
        back = client.review_decisions()
    assert [(d["record_id"], d["certified_until"]) for d in back["decisions"]] == [(record, until.isoformat())]
    # The queue is empty now; the page says so in words.
    page.goto(f"{console_backend.url}/console/review")
    assert "没有待审核的认证" in page.content()
    context.close()


def test_reviewer_is_refused_admin_pages_a_forged_csrf_and_a_cookie_after_sign_out(  # type: ignore[no-untyped-def]
        browser, console_backend, world) -> None:
    context, page = _sign_in(browser, console_backend, "rita", step=1)
    response = page.goto(f"{console_backend.url}/console/admin/users")
    assert response.status == 403 and "无权" in page.inner_text("#refusal")
    _shot(page, "05-refused")
    assert page.goto(f"{console_backend.url}/console/audit").status == 403
    # A forged CSRF token on the sign-out form: refused, and the session is still there.
    page.goto(f"{console_backend.url}/console/review")
    page.evaluate("document.querySelector('form[action=\"/console/logout\"] input[name=csrf]').value = 'forged'")
    page.click("#sign-out")
    page.wait_for_load_state()
    assert "安全校验未通过" in page.inner_text("#refusal")
    assert ("rita", "csrf_refused", "/console/logout") in _audit(console_backend)
    assert page.goto(f"{console_backend.url}/console/review").status == 200
    stolen = context.cookies()
    assert any(c["name"] == "console_session" and c["httpOnly"] and c["sameSite"] == "Strict" for c in stolen)
    page.click("#sign-out")
    page.wait_for_load_state()
    assert page.url.endswith("/console/login")
    thief = browser.new_context()
    thief.add_cookies(stolen)
    other = thief.new_page()
    other.goto(f"{console_backend.url}/console/review")
    assert other.url.endswith("/console/login")                 # the old cookie opens nothing
    thief.close()
    context.close()


def test_auditor_reads_the_log_and_cannot_change_it(browser, console_backend, world) -> None:  # type: ignore[no-untyped-def]
    context, page = _sign_in(browser, console_backend, "aude")
    assert page.url.endswith("/console/audit")
    actions = page.locator("#audit tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert {"capture_viewed", "review_decided", "csrf_refused", "sign_in"} <= set(actions)
    assert page.locator("main form, main button").count() == 0        # no way to edit on the page
    _shot(page, "06-audit-log")
    before = len(_audit(console_backend))
    csrf = page.get_attribute("form[action='/console/logout'] input[name=csrf]", "value")
    for method, path in (("POST", "/console/audit"), ("DELETE", "/console/audit"),
                         ("POST", "/console/audit/1/delete")):
        status = page.evaluate("""([method, path, csrf]) => fetch(path, {method, body: new URLSearchParams({csrf}),
                                  credentials: 'same-origin'}).then(r => r.status)""", [method, path, csrf])
        assert status in (403, 404, 405), (method, path, status)
    after = _audit(console_backend)
    assert len(after) >= before and after[:before] == _audit(console_backend)[:before]
    context.close()


def test_fleet_operator_sees_the_kiosk_go_offline_and_exports_csv(browser, console_backend, world) -> None:  # type: ignore[no-untyped-def]
    kiosk = world["kiosk"]
    context, page = _sign_in(browser, console_backend, "felix")
    assert page.url.endswith("/console/fleet")
    row = page.locator("tr[data-kiosk='field-kiosk-01']")
    assert row.get_attribute("data-state") == "ok", row.inner_text()
    assert "✔" in row.inner_text() and "正常" in row.inner_text()
    _shot(page, "07-fleet")
    assert kiosk.call("unplug_pad")["ok"]
    deadline = time.monotonic() + 20
    while row.get_attribute("data-state") != "alert" and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    text = row.inner_text()
    assert row.get_attribute("data-state") == "alert", text
    assert "✖" in text and "告警" in text and "设备离线" in text and "pinpad: offline" in text
    pad = row.locator("[data-device='pinpad']").inner_text()
    assert "离线" in pad and "✖" in pad                    # colour + word + icon, never colour alone
    _shot(page, "08-fleet-offline")
    # The heartbeat that reported the pad also brought the reviewer's decision to the kiosk.
    deadline = time.monotonic() + 10
    while (kept := kiosk.call("review_decision", record=world["record"])["decision"]) is None \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kept is not None and kept["decision"] == "approved" and kept["certified_until"], kept
    row.locator("a").first.click()
    assert "设备状态变化" in page.inner_text("#history")
    _shot(page, "09-kiosk-history")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{console_backend.url}/console/figures")
    assert page.locator("figure.chart svg").count() == 3 and page.locator("figure.chart script").count() == 0
    assert page.inner_text("#cert-total") == "1"
    assert errors == []                                  # nothing the page's CSP had to refuse
    _shot(page, "10-figures")
    with page.expect_download() as info:
        page.click("#export-csv")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["section", "key", "value"]
    assert ["certification", "total", "1"] in rows and ["services_per_kiosk", "field-kiosk-01", "1"] in rows
    assert ["certification", "escalation_rate", "1.0000"] in rows
    assert ["certification", "success_rate", "1.0000"] in rows           # approved after review
    assert info.value.suggested_filename.startswith("figures-") and all(PERSON not in ",".join(r) for r in rows)
    page.goto(f"{console_backend.url}/console/lang?to=en&back=/console/fleet")
    assert "Device offline" in page.content()
    _shot(page, "11-fleet-english")
    context.close()


def test_administrator_creates_an_account_and_sees_its_secret_once(browser, console_backend, world) -> None:  # type: ignore[no-untyped-def]
    context, page = _sign_in(browser, console_backend, "ada")
    assert page.url.endswith("/console/admin/users")
    page.fill("input[name=username]", "reviewer2")
    page.fill("input[name=display_name]", "王审核")
    page.select_option("select[name=role]", "reviewer")
    page.fill("input[name=password]", "a long enough password")
    page.click("section.card button[type=submit]")
    page.wait_for_selector("#totp-secret")
    assert len(page.inner_text("#totp-secret")) >= 16
    _shot(page, "12-staff-accounts")
    page.goto(f"{console_backend.url}/console/admin/users")
    assert page.locator("#totp-secret").count() == 0                   # shown once
    context.close()
