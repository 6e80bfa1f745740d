"""Apply a signed release bundle: verify, install beside, wait for the attract screen, switch
atomically, restart, health-check, roll back automatically when the new release is not healthy.

Health means: the kiosk process of the new release published its state (state.py) after the
restart, its home screen is up, and every device that worked before the switch works again.
A release that failed is written to ``rejected-releases`` and never tried again; every outcome
is appended to the update history (JSON lines) and logged to the journal.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from kiosk.appliance.bundle import BundleError, trusted_keys, verify_bundle
from kiosk.appliance.install import InstallError, install_beside
from kiosk.appliance.layout import Layout, point, prune, switch_to
from kiosk.appliance.release import read_release
from kiosk.appliance.state import SYSTEM_STATE_FILE, RunState, read_state

log = logging.getLogger(__name__)

KEYS_DIR = Path("/etc/sscard-kiosk/release-keys")
HISTORY = Path("/var/lib/sscard-kiosk-updates/history.jsonl")
KIOSK_UNIT = "sscard-kiosk.service"


class ServiceControl(Protocol):
    def restart(self) -> None: ...


@dataclass(frozen=True)
class SystemdService:
    unit: str = KIOSK_UNIT

    def restart(self) -> None:
        subprocess.run(["systemctl", "restart", self.unit], check=True, timeout=180)


@dataclass
class UpdatePolicy:
    state_file: Path = SYSTEM_STATE_FILE
    health_timeout_s: float = 180.0     # the new release must be healthy within this after its restart
    idle_quiet_s: float = 20.0          # the attract screen must have shown this long (nobody walking up)
    idle_timeout_s: float = 24 * 3600   # give up waiting for a quiet moment after this (retried later)
    stale_after_s: float = 15.0         # a state older than this means the kiosk is not running
    poll_s: float = 1.0
    python: str = "python3"
    deps_from: Path | None = None


@dataclass
class UpdateOutcome:
    result: str                         # switched | rolled_back | refused | already | not_idle
    bundle: str
    version: str | None = None
    sha256: str | None = None
    detail: str = ""
    at: float = field(default_factory=time.time)


def wait_for_idle(policy: UpdatePolicy, sleep: Callable[[float], None] = time.sleep) -> bool:
    """True once no visit is in progress and none has been for ``idle_quiet_s`` (or no kiosk runs)."""
    deadline = time.monotonic() + policy.idle_timeout_s
    while True:
        state = read_state(policy.state_file)
        now = time.time()
        if state is None or now - state.updated_at > policy.stale_after_s:
            return True                 # no kiosk serving anyone: nothing to interrupt
        if state.idle and now - (state.idle_since or now) >= policy.idle_quiet_s:
            return True
        if time.monotonic() >= deadline:
            return False
        sleep(policy.poll_s)


def wait_healthy(policy: UpdatePolicy, release: dict[str, object], started_after: float,
                 need_devices: set[str], sleep: Callable[[float], None] = time.sleep) -> tuple[bool, str]:
    """Poll the state file until ``release`` runs with its home screen up and ``need_devices`` working."""
    deadline = time.monotonic() + policy.health_timeout_s
    last = "the kiosk published no state after the restart"
    while True:
        state = read_state(policy.state_file)
        if state is not None and state.updated_at >= started_after:
            ok, last = _judge(state, release, need_devices)
            if ok:
                return True, last
        if time.monotonic() >= deadline:
            return False, f"not healthy within {policy.health_timeout_s:.0f}s: {last}"
        sleep(policy.poll_s)


def _judge(state: RunState, release: dict[str, object], need: set[str]) -> tuple[bool, str]:
    running = (state.release.get("version"), state.release.get("sha256"))
    if running != (release.get("version"), release.get("sha256")):
        return False, f"release {running[0]} is running, not {release.get('version')}"
    if not state.home_ready:
        return False, "the home screen did not come up"
    missing = sorted(need - state.working_devices())
    if missing:
        return False, "devices not working: " + ", ".join(f"{d} ({state.devices.get(d, 'absent')})" for d in missing)
    return True, f"healthy: home screen up, devices working: {', '.join(sorted(state.working_devices())) or 'none'}"


def _rejected(layout: Layout) -> set[str]:
    try:
        return set(layout.rejected.read_text(encoding="ascii").split())
    except OSError:
        return set()


def apply_update(bundle_path: Path, layout: Layout, service: ServiceControl, policy: UpdatePolicy,
                 keys_dir: Path = KEYS_DIR, history: Path | None = HISTORY) -> UpdateOutcome:
    outcome = _apply(bundle_path, layout, service, policy, keys_dir)
    log.log(logging.INFO if outcome.result in ("switched", "already") else logging.ERROR,
            "update " + outcome.result, extra=asdict(outcome))
    if history is not None:
        history.parent.mkdir(parents=True, exist_ok=True)
        with history.open("a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(outcome), ensure_ascii=False) + "\n")
    return outcome


def _apply(bundle_path: Path, layout: Layout, service: ServiceControl, policy: UpdatePolicy,
           keys_dir: Path) -> UpdateOutcome:
    name = bundle_path.name
    try:
        bundle = verify_bundle(bundle_path, trusted_keys(keys_dir))
    except (BundleError, OSError) as exc:
        return UpdateOutcome("refused", name, detail=str(exc))
    if bundle.sha256 in _rejected(layout):
        return UpdateOutcome("refused", name, bundle.version, bundle.sha256,
                             "this release failed its health check here before; it is not tried again")
    try:
        release_dir = install_beside(bundle, layout, python=policy.python, deps_from=policy.deps_from)
    except (InstallError, BundleError, OSError) as exc:
        return UpdateOutcome("refused", name, bundle.version, bundle.sha256, f"install failed: {exc}")
    old = layout.target(layout.current)
    if old == release_dir.resolve():
        return UpdateOutcome("already", name, bundle.version, bundle.sha256, "this release is already running")

    before = read_state(policy.state_file)
    fresh = before is not None and time.time() - before.updated_at <= policy.stale_after_s
    need = before.working_devices() if fresh and before is not None else set()
    if not wait_for_idle(policy):
        return UpdateOutcome("not_idle", name, bundle.version, bundle.sha256,
                             "no quiet moment on the attract screen; installed beside, switch retried later")

    previous_before = layout.target(layout.previous)
    switch_to(layout, release_dir)
    started = time.time()
    service.restart()
    new_release = {"version": bundle.version, "sha256": bundle.sha256}
    healthy, why = wait_healthy(policy, new_release, started, need)
    if healthy:
        prune(layout)
        return UpdateOutcome("switched", name, bundle.version, bundle.sha256, why)

    # Roll back: the previous release comes back the same way, then this one is never tried again.
    with layout.rejected.open("a", encoding="ascii") as f:
        f.write(bundle.sha256 + "\n")
    detail = f"new release failed its health check ({why})"
    if old is None:
        return UpdateOutcome("rolled_back", name, bundle.version, bundle.sha256, detail + "; no previous release")
    switch_to(layout, old)
    if previous_before is not None:            # previous goes back to what it was, not the failed one
        point(layout.previous, previous_before)
    else:
        layout.previous.unlink(missing_ok=True)
    started = time.time()
    service.restart()
    old_release = read_release(old) or {}
    back, back_why = wait_healthy(policy, {"version": old_release.get("version"), "sha256": old_release.get("sha256")},
                                  started, need)
    prune(layout)
    return UpdateOutcome("rolled_back", name, bundle.version, bundle.sha256,
                         f"{detail}; previous release {old.name} restarted: {back_why if back else 'NOT healthy: ' + back_why}")


def apply_incoming(incoming: Path, layout: Layout, service: ServiceControl, policy: UpdatePolicy,
                   keys_dir: Path = KEYS_DIR, history: Path | None = HISTORY) -> list[UpdateOutcome]:
    """Every ``*.kbundle`` dropped in ``incoming``, oldest first; each is then moved to done/ or rejected/."""
    outcomes = []
    for bundle in sorted(incoming.glob("*.kbundle"), key=lambda p: p.stat().st_mtime):
        outcome = apply_update(bundle, layout, service, policy, keys_dir, history)
        outcomes.append(outcome)
        if outcome.result == "not_idle":
            continue
        folder = incoming / ("done" if outcome.result in ("switched", "already") else "rejected")
        folder.mkdir(exist_ok=True)
        bundle.replace(folder / bundle.name)
    return outcomes
