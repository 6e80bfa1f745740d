"""The append-only audit log (table ``console_audit``; the database refuses UPDATE and DELETE).

Targets are record ids and user names, never an ID number or a name of a citizen."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from backend.console.tables import console_audit
from backend.context import Services


def write(services: Services, username: str, role: str, action: str, target: str = "", detail: str = "") -> None:
    with services.engine.begin() as conn:
        conn.execute(console_audit.insert().values(at=services.clock(), username=username, role=role,
                                                   action=action, target=target[:80], detail=detail[:500]))


def recent(services: Services, limit: int = 500) -> list[dict[str, Any]]:
    with services.engine.connect() as conn:
        rows = conn.execute(sa.select(console_audit).order_by(console_audit.c.id.desc()).limit(limit)) \
            .mappings().all()
    return [dict(r) for r in rows]
