"""Structured logging: one JSON line per event, rotated, the visit id on every line, secrets scrubbed.

Call :func:`setup_logging` once at start-up. Code logs with ordinary ``logging`` calls and puts
structured fields in ``extra={...}``. Fields whose names suggest a secret or a biometric are
dropped, and every string passes :func:`kiosk.privacy.scrub_text`.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.privacy import scrub_text

_visit_lock = threading.Lock()
_visit_id: str | None = None

# Extras with these names are never written, whatever their value.
_FORBIDDEN_FIELD_RE = re.compile(
    r"^pin$|^pins?_|_pin$|pin_?block|new_pin|old_pin|secret|password|passwd|^keys?$|_key$|key_value|"
    r"photo|image|template|embedding|otp|sms_code|id_number|ssn|^name$|holder_name|citizen_name|phone",
    re.IGNORECASE)
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def set_visit_id(visit_id: str | None) -> None:
    """The kiosk serves one citizen at a time: the current visit id goes on every log line."""
    global _visit_id
    with _visit_lock:
        _visit_id = visit_id


def current_visit_id() -> str | None:
    return _visit_id


def _safe_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    return scrub_text(str(value))


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "thread": record.threadName,
            "visit": _visit_id,
            "msg": scrub_text(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key in _STANDARD_ATTRS or key.startswith("_"):
                continue
            entry[key] = "<redacted>" if _FORBIDDEN_FIELD_RE.search(key) else _safe_value(value)
        if record.exc_info and record.exc_info[0] is not None:
            # Type and location only: exception messages and locals may hold personal data.
            exc_type, _exc, tb = record.exc_info
            frames = []
            while tb is not None:
                frames.append(f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}")
                tb = tb.tb_next
            entry["exc_type"] = exc_type.__name__
            entry["exc_at"] = " > ".join(frames[-6:])
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(log_dir: Path | None, level: str = "INFO", max_bytes: int = 5_000_000,
                  backup_count: int = 10, console: bool = True) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kiosk_handler", False):
            root.removeHandler(handler)
            handler.close()
    formatter = JsonLineFormatter()
    handlers: list[logging.Handler] = []
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
        handlers.append(logging.handlers.RotatingFileHandler(
            log_dir / "kiosk.jsonl", maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"))
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler._kiosk_handler = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
