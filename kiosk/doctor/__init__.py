"""`kiosk doctor`: check every configured part and say, for each problem, what to do.

Each area has its own module here with a ``checks(config) -> list[CheckResult]`` function; this
module runs them all, catching anything a check raises so that one broken part never hides the
state of the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from kiosk.config import KioskConfig


class Verdict(StrEnum):
    OK = "OK"
    WARN = "WARN"
    PROBLEM = "PROBLEM"


@dataclass(frozen=True)
class CheckResult:
    name: str
    verdict: Verdict
    detail: str
    todo: str = ""        # what the operator should do; empty when OK


# Order is the order of the printed table.
CHECK_MODULES = ["core", "smartcard", "pinpad", "camera", "face", "backend", "field", "idcard"]


def run_checks(config: KioskConfig, modules: Iterable[str] = CHECK_MODULES) -> list[CheckResult]:
    results: list[CheckResult] = []
    for name in modules:
        try:
            module = importlib.import_module(f"kiosk.doctor.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kiosk.doctor.{name}":
                results.append(CheckResult(name, Verdict.PROBLEM, f"cannot load checks: missing {exc.name}",
                                           "run the setup command again (scripts/setup.sh)"))
            continue
        try:
            results.extend(module.checks(config))
        except Exception as exc:  # a crashing check is itself a finding
            results.append(CheckResult(name, Verdict.PROBLEM, f"check crashed: {type(exc).__name__}: {exc}",
                                       "report this to the kiosk's support team with the log file"))
    return results


def format_table(results: list[CheckResult]) -> str:
    headers = ("check", "result", "detail", "what to do")
    rows = [(r.name, r.verdict.value, r.detail, r.todo or "-") for r in results]
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(3)]
    lines = []
    for row in [headers, *rows]:
        lines.append("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 10)
    return "\n".join(lines)
