"""Doctor checks for the field profile: battery, the authorised-operators list, the roster."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kiosk.config import resolve_path
from kiosk.doctor import CheckResult, Verdict


def checks(config: Any) -> list[CheckResult]:
    if config.kiosk.profile != "field":
        return []
    results = [_battery(config)]
    store_path = Path(config.store.path)
    if not store_path.is_absolute():
        store_path = resolve_path(config.kiosk.data_dir) / store_path
    if not store_path.exists():
        results.append(CheckResult("field roster", Verdict.WARN, "no local store yet",
                                   "start the kiosk online once, sign in and download the roster"))
        return results
    from kiosk.store import Store, StoreError

    try:
        store = Store(store_path, kiosk_id=config.kiosk.id)
    except StoreError as exc:
        return [*results, CheckResult("field roster", Verdict.PROBLEM, str(exc).split(";")[0], str(exc))]
    try:
        results += [_operators(config, store), _roster(config, store)]
    finally:
        store.close()
    return results


def _battery(config: Any) -> CheckResult:
    from kiosk.field.battery import read_battery

    status = read_battery(config.field.power_supply_dir)
    if status.percent is None:
        return CheckResult("battery", Verdict.OK, "no battery reported (mains power)")
    text = f"{status.percent}%{' charging' if status.charging else ''}"
    if status.below(config.field.battery_min_percent):
        return CheckResult("battery", Verdict.WARN, text, f"charge to at least {config.field.battery_min_percent}% "
                           "before going out: certifications are refused below it")
    return CheckResult("battery", Verdict.OK, text)


def _operators(config: Any, store: Any) -> CheckResult:
    from kiosk.field.operators import OperatorDirectory, SignInError

    directory = OperatorDirectory(store, pinned_key_b64=config.field.signing_key,
                                  max_age_days=config.field.operator_list_max_age_days)
    try:
        entries = directory.entries()
    except SignInError as exc:
        return CheckResult("operator list", Verdict.WARN, exc.code, str(exc))
    info = directory.info() or {}
    return CheckResult("operator list", Verdict.OK, f"{len(entries)} operators, valid until {info.get('valid_until')}")


def _roster(config: Any, store: Any) -> CheckResult:
    from kiosk.field.vault import RosterVault

    info = RosterVault(store, expiry_days=config.field.roster_expiry_days).info()
    if info is None:
        return CheckResult("field roster", Verdict.WARN, "none on this kiosk",
                           "sign in while online and download the roster before going out")
    days = (info.expires_at - time.time()) / 86400
    if days <= 0:
        return CheckResult("field roster", Verdict.WARN, "expired (purged at the next start or within the hour)",
                           "download a new roster while online")
    verdict = Verdict.WARN if days < 2 else Verdict.OK
    return CheckResult("field roster", verdict, f"{info.count} persons in {', '.join(info.districts)}, encrypted; "
                       f"expires in {days:.1f} days", "" if verdict is Verdict.OK else "download a fresh roster online")
