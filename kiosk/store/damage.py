"""Noticing a damaged local store, and naming the write failures an operator can fix.

A store that was there and is now missing, empty or unreadable must not quietly open as a new
one: its seq would start again at 1 and its unsent records would be gone without a word. A
marker file beside the store (``<store>.created``, written once when the store is created)
remembers that it existed. A full disk and a read-only file system are named errors that say
what to do, not a raw ``sqlite3.OperationalError``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path


class StoreDamage(Exception):
    """Base of the named store failures (kiosk.store.StoreError derives the public ones)."""


def marker_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".created")


def missing_or_empty(store_path: Path) -> str | None:
    """Why a store that existed is unusable now, or None if the file is there with content."""
    if not marker_path(store_path).exists():
        return None                                   # a new kiosk (or the whole data folder was replaced)
    if not store_path.exists():
        return "the file is missing"
    if store_path.stat().st_size == 0:
        return "the file is empty (0 bytes)"
    return None


def write_marker(store_path: Path, kiosk_id: str) -> None:
    marker = marker_path(store_path)
    if marker.exists():
        return
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"kiosk_id": kiosk_id, "created_ts": time.time()}, fh)


def damage_message(store_path: Path, why: str) -> str:
    return (f"{store_path}: the local store existed (see {marker_path(store_path).name}) but {why}; "
            "the kiosk will not start on it, because unsent records and its record numbering would be lost. "
            "Restore the file from backup or call support; only after support has reconciled the kiosk "
            f"with the backend delete {marker_path(store_path).name} to start a new store")


def write_failure(exc: sqlite3.OperationalError) -> tuple[str, str] | None:
    """-> (kind, message) for a full disk or a read-only store; None for anything else."""
    text = str(exc).lower()
    if "full" in text:
        return "full", ("the kiosk's disk is full: the result was NOT saved. Free space on the kiosk's data disk "
                        "(old logs, captures) or call support; records saved before are safe")
    if "readonly" in text or "read-only" in text:
        return "readonly", ("the local store is read-only (the disk was remounted read-only, often after a "
                            "disk error): the result was NOT saved. Restart the kiosk; if it persists, call "
                            "support to check the disk; records saved before are safe")
    return None
