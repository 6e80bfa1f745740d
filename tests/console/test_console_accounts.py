"""Sign-in, lockout, sessions, CSRF and the append-only audit log, over HTTP on the real backend
and PostgreSQL (the browser tests repeat the important ones in Chromium)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from consolekit import PASSWORD, ConsoleClient, csrf_of
from sqlalchemy.exc import DBAPIError

from backend.console.tables import console_audit, staff_users

pytestmark = [pytest.mark.postgres]


def _actions(backend, since: int = 0) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with backend.services.engine.connect() as conn:
        return [(r.username, r.action) for r in conn.execute(
            sa.select(console_audit).where(console_audit.c.id > since).order_by(console_audit.c.id))]


def test_password_is_argon2id_and_sign_in_needs_the_current_code_once(console_backend) -> None:  # type: ignore[no-untyped-def]
    with console_backend.services.engine.connect() as conn:
        stored = conn.execute(sa.select(staff_users.c.password_hash).where(staff_users.c.username == "aude")).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    client = ConsoleClient(console_backend)
    try:
        assert client.sign_in("aude", code="000000").status_code == 401
        assert "不正确" in client.sign_in("aude", password="wrong password!!").text   # Chinese by default
        console_backend.clock.advance(31)
        ok = client.sign_in("aude")
        assert ok.status_code == 303 and ok.headers["location"] == "/console/audit"
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
        replay = ConsoleClient(console_backend)
        assert replay.sign_in("aude").status_code == 401       # the same code again: refused
        replay.close()
        page = client.http.get("/console/audit")
        assert page.status_code == 200 and "审计日志" in page.text
        assert page.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in \
            page.headers["content-security-policy"]
    finally:
        client.close()


def test_lockout_after_repeated_failures(console_backend) -> None:  # type: ignore[no-untyped-def]
    client = ConsoleClient(console_backend)
    try:
        for _ in range(console_backend.services.config.console.max_failures):
            assert client.sign_in("felix", password="not the password").status_code == 401
        locked = client.sign_in("felix")
        assert locked.status_code == 401 and "锁定" in locked.text            # right password, still locked
        console_backend.clock.advance(console_backend.services.config.console.lockout_s + 31)
        assert client.sign_in("felix").status_code == 303
    finally:
        client.close()


def test_idle_sign_out_and_sign_out_end_the_session(console_backend) -> None:  # type: ignore[no-untyped-def]
    console_backend.clock.advance(31)
    client = ConsoleClient(console_backend)
    try:
        assert client.sign_in("ada").status_code == 303
        assert client.http.get("/console/admin/users").status_code == 200
        idle = console_backend.services.config.console.idle_timeout_s
        console_backend.clock.advance(idle - 60)
        # The fleet table's automatic refresh is not activity: it does not postpone the sign-out.
        assert client.http.get("/console/fleet", headers={"X-Console-Refresh": "1"}).status_code == 200
        console_backend.clock.advance(61)
        gone = client.http.get("/console/admin/users")
        assert gone.status_code == 303 and gone.headers["location"] == "/console/login"
    finally:
        client.close()


def test_a_form_without_the_session_csrf_token_is_refused_and_logged(console_backend) -> None:  # type: ignore[no-untyped-def]
    console_backend.clock.advance(31)
    client = ConsoleClient(console_backend)
    try:
        assert client.sign_in("ada").status_code == 303
        page = client.http.get("/console/admin/users")
        before = _actions(console_backend)[-1:]
        forged = client.http.post("/console/admin/users", data={
            "csrf": "forged", "username": "mallory", "display_name": "M", "role": "administrator",
            "password": "x" * 20})
        assert forged.status_code == 403
        assert ("ada", "csrf_refused") in _actions(console_backend) and before
        good = client.http.post("/console/admin/users", data={
            "csrf": csrf_of(page.text), "username": "newbie", "display_name": "N", "role": "auditor",
            "password": "x" * 20})
        assert good.status_code == 200 and 'id="totp-secret"' in good.text
        with console_backend.services.engine.connect() as conn:
            users = set(conn.execute(sa.select(staff_users.c.username)).scalars())
        assert "newbie" in users and "mallory" not in users
    finally:
        client.close()


def test_the_audit_log_is_append_only_in_postgresql(console_backend) -> None:  # type: ignore[no-untyped-def]
    engine = console_backend.services.engine
    with engine.begin() as conn:
        conn.execute(console_audit.insert().values(at=console_backend.clock(), username="t", role="auditor",
                                                   action="probe"))
    for statement in ("UPDATE console_audit SET detail = 'rewritten'", "DELETE FROM console_audit",
                      "TRUNCATE console_audit"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert ("t", "probe") in _actions(console_backend)
