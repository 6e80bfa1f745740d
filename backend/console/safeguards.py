"""The console's safeguards page: what the backend's protections are holding back right now.

* SMS rate-limit lockouts of phones (persons) and kiosks (backend/lockouts.py), each with a Lift
  button. The page never carries a full phone number: a lockout is named in the form by a digest
  of (kind, subject), and the lift looks the subject up again among the current lockouts, so a
  stale or forged form lifts nothing.
* Person data refused to a kiosk outside its visit (backend/visits.py), masked.
"""

from __future__ import annotations

import hashlib
from typing import Any

from backend import lockouts, visits
from backend.context import Services


def lockout_ref(kind: str, subject: str) -> str:
    return hashlib.sha256(f"{kind}\x00{subject}".encode()).hexdigest()[:24]


def overview(services: Services) -> dict[str, Any]:
    locked = [{**lock, "ref": lockout_ref(lock["kind"], lock["subject"])}
              for lock in lockouts.current(services)["lockouts"]]
    for lock in locked:
        del lock["subject"]                  # the page shows subject_masked only
    return {"lockouts": locked, "refusals": visits.refusals(services, limit=100)["refusals"]}


def lift(services: Services, ref: str) -> dict[str, Any] | None:
    """Lift the current lockout named by ``ref``: its kind, masked subject and lifted_at for the audit
    log, or None when no current lockout has that name (it ended, or another operator lifted it)."""
    for lock in lockouts.current(services)["lockouts"]:
        if lockout_ref(lock["kind"], lock["subject"]) == ref:
            lifted = lockouts.lift(services, lock["kind"], lock["subject"])
            return {"kind": lock["kind"], "subject_masked": lock["subject_masked"],
                    "lifted_at": lifted["lifted_at"]}
    return None
