"""The console on the embedded (demo) store: the first administrator from the command line, the
demo accounts, and the append-only audit log on SQLite too."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_staff_add_prints_the_secret_once_and_the_sqlite_log_is_append_only(tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "backend.cli", "staff-add", "--embedded", "--data-dir", str(tmp_path)]
    short = subprocess.run([*cli, "boss", "--role", "administrator"], input="short\n", capture_output=True,
                           text=True, cwd=ROOT, timeout=120)
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    made = subprocess.run([*cli, "boss", "--role", "administrator"], input="a long admin password\n",
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.split("shown once: ")[1].split()[0]
    assert pyotp.TOTP(secret).now().isdigit() and "otpauth://totp/" in made.stdout
    db = sqlite3.connect(tmp_path / "backend.sqlite3")
    try:
        roles = dict(db.execute("SELECT username, role FROM staff_users").fetchall())
        assert roles["boss"] == "administrator" and roles["demo-reviewer"] == "reviewer"   # demo staff too
        db.execute("INSERT INTO console_audit (at, username, role, action, target, detail) "
                   "VALUES ('2026-12-06 08:00:00', 'boss', 'administrator', 'probe', '', '')")
        db.commit()
        for statement in ("UPDATE console_audit SET detail = 'x'", "DELETE FROM console_audit"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                db.execute(statement)
    finally:
        db.close()
