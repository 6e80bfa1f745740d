"""Doctor checks that need no device: data folder, clock, log folder."""

from __future__ import annotations

import os
import time
from datetime import datetime

from kiosk.config import KioskConfig, resolve_path
from kiosk.doctor import CheckResult, Verdict

# Before this date the clock is certainly wrong (records and certificates would be mis-dated).
_EARLIEST_PLAUSIBLE = datetime(2026, 1, 1).timestamp()


def checks(config: KioskConfig) -> list[CheckResult]:
    return [_data_dir(config), _clock()]


def _data_dir(config: KioskConfig) -> CheckResult:
    path = resolve_path(config.kiosk.data_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".doctor-probe"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return CheckResult("data folder", Verdict.PROBLEM, f"{path}: {exc.strerror}",
                           f"create {path} and make it writable by the kiosk user")
    free_mb = _free_mb(str(path))
    if free_mb < 500:
        return CheckResult("data folder", Verdict.WARN, f"{path}: only {free_mb} MB free",
                           "free disk space: records cannot be queued when the disk is full")
    return CheckResult("data folder", Verdict.OK, f"{path} writable, {free_mb} MB free")


def _free_mb(path: str) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize // 1_000_000


def _clock() -> CheckResult:
    now = time.time()
    if now < _EARLIEST_PLAUSIBLE:
        return CheckResult("clock", Verdict.PROBLEM, f"system time {datetime.fromtimestamp(now):%Y-%m-%d} is implausible",
                           "set the date and time (enable NTP): records carry the wall-clock time")
    return CheckResult("clock", Verdict.OK, f"{datetime.fromtimestamp(now).astimezone():%Y-%m-%d %H:%M:%S %Z}")
