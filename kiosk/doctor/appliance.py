"""Doctor checks for the kiosk as an appliance: no vpcd outside the demo, release identity,
systemd units (watchdog, kiosk user), udev device names, the running kiosk's state, updates.

Paths are read under ``$KIOSK_APPLIANCE_ROOT`` (default ``/``) so the same checks run against a
tree installed with DESTDIR.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from kiosk.appliance.pcsc_guard import vpcd_findings
from kiosk.appliance.release import running_release
from kiosk.appliance.state import read_state
from kiosk.config import KioskConfig
from kiosk.doctor import CheckResult, Verdict

KIOSK_USER = "sscard-kiosk"
UNIT = "etc/systemd/system/sscard-kiosk.service"
DEVICE_LINKS = {"PIN pad": "dev/kiosk-pinpad", "ID-card reader": "dev/kiosk-idcard"}


def _root() -> Path:
    return Path(os.environ.get("KIOSK_APPLIANCE_ROOT", "/"))


def checks(config: KioskConfig) -> list[CheckResult]:
    production = config.kiosk.profile != "demo"
    results = [_vpcd(config), _release(production)]
    if production:
        results += [_unit(), *(_device(label, rel) for label, rel in DEVICE_LINKS.items()), _running(), _updates()]
    return results


def _vpcd(config: KioskConfig) -> CheckResult:
    root = _root()
    findings = vpcd_findings(root / "etc/reader.conf.d",
                             tuple(root / p for p in ("proc/net/tcp", "proc/net/tcp6")))
    if not findings:
        return CheckResult("virtual reader", Verdict.OK, "vpcd not enabled")
    where = "; ".join(f"{f.where}: {f.detail}" for f in findings)
    if config.kiosk.profile == "demo" or config.smartcard.backend != "pcsc":
        return CheckResult("virtual reader", Verdict.OK, f"demo: vpcd enabled ({where})")
    return CheckResult("virtual reader", Verdict.PROBLEM, f"vpcd enabled on the {config.kiosk.profile} profile: {where}",
                       "apt-get purge vsmartcard-vpcd; systemctl restart pcscd (it takes 'cards' from the network)")


def _release(production: bool) -> CheckResult:
    release = running_release()
    if release["sha256"]:
        return CheckResult("release", Verdict.OK, f"{release['version']} from signed bundle {release['sha256'][:16]}…")
    verdict = Verdict.WARN if production else Verdict.OK
    return CheckResult("release", verdict, f"{release['version']}, not installed from a signed bundle",
                       "install the bureau's signed release (docs/deploy.md)" if production else "")


def _unit() -> CheckResult:
    path = _root() / UNIT
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return CheckResult("kiosk service", Verdict.PROBLEM, f"{path} missing",
                           "run scripts/install-kiosk.sh (docs/deploy.md)")
    lines = {line.split("=", 1)[0].strip(): line.split("=", 1)[1].strip()
             for line in text.splitlines() if "=" in line and not line.lstrip().startswith("#")}
    wrong = [f"{key}={want}" for key, want in (("User", KIOSK_USER), ("Type", "notify")) if lines.get(key) != want]
    if "WatchdogSec" not in lines:
        wrong.append("WatchdogSec")
    if wrong:
        return CheckResult("kiosk service", Verdict.PROBLEM, f"{path} lacks {', '.join(wrong)}",
                           "reinstall the unit from deploy/systemd (scripts/install-kiosk.sh)")
    return CheckResult("kiosk service", Verdict.OK, f"runs as {KIOSK_USER} under cage, watchdog {lines['WatchdogSec']}")


def _device(label: str, rel: str) -> CheckResult:
    path = _root() / rel
    name = f"{label} /{rel}"
    try:
        st = path.stat()
    except OSError:
        return CheckResult(name, Verdict.PROBLEM, "missing (no udev rule matched a plugged device)",
                           "plug the device in; check its USB id in /etc/udev/rules.d/70-sscard-kiosk.rules")
    if not stat.S_ISCHR(st.st_mode):
        return CheckResult(name, Verdict.PROBLEM, "not a character device", "check the udev rule")
    if st.st_mode & 0o007:
        return CheckResult(name, Verdict.PROBLEM, f"mode {oct(st.st_mode & 0o777)} lets every user in",
                           "the udev rule must set MODE=\"0660\" and GROUP=\"sscard-kiosk\"")
    return CheckResult(name, Verdict.OK, f"-> {os.path.realpath(path)}, mode {oct(st.st_mode & 0o777)}")


def _running() -> CheckResult:
    state = read_state(_root() / "run/sscard-kiosk/state.json")
    if state is None:
        return CheckResult("kiosk process", Verdict.WARN, "no run state (kiosk not started?)",
                           "systemctl status sscard-kiosk; journalctl -u sscard-kiosk")
    age = time.time() - state.updated_at
    if age > 15:
        return CheckResult("kiosk process", Verdict.PROBLEM, f"state {age:.0f}s old: the event loop is not turning",
                           "the watchdog should restart it; see journalctl -u sscard-kiosk")
    down = sorted(set(state.devices) - state.working_devices())
    detail = f"{state.release.get('version')} pid {state.pid}, {'idle' if state.idle else 'visit in progress'}"
    if down:
        return CheckResult("kiosk process", Verdict.WARN, f"{detail}; devices not working: {', '.join(down)}",
                           "check the named devices' cables and `kiosk doctor` lines above")
    return CheckResult("kiosk process", Verdict.OK, detail)


def _updates() -> CheckResult:
    history = _root() / "var/lib/sscard-kiosk-updates/history.jsonl"
    try:
        last = json.loads(history.read_text(encoding="utf-8").splitlines()[-1])
    except (OSError, IndexError, ValueError):
        return CheckResult("updates", Verdict.OK, "no update applied yet")
    detail = f"last: {last.get('result')} {last.get('version') or ''} ({last.get('bundle')})"
    if last.get("result") in ("switched", "already", "not_idle"):
        return CheckResult("updates", Verdict.OK, detail)
    return CheckResult("updates", Verdict.WARN, f"{detail}: {last.get('detail', '')}",
                       "tell the centre: the release was refused or rolled back")
