"""The one error shape of the API: ``{"error": code, "record_id": id or null, "reason": sentence}``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refusal with an HTTP status, a stable code for programs and a sentence for people."""

    def __init__(self, status: int, error: str, reason: str, record_id: str | None = None,
                 **extra: Any) -> None:
        super().__init__(f"{status} {error}: {reason}")
        self.status = status
        self.error = error
        self.reason = reason
        self.record_id = record_id
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "record_id": self.record_id, "reason": self.reason, **self.extra}
