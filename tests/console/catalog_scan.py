"""Strings the console marks for translation: ``_("...")`` in its templates (also the values of a
``_({...}[key])`` table) and ``translate("...", lang)`` in its Python code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "backend" / "console"
_CALL = re.compile(r"""_\(\s*(["'])(.+?)\1""")
_TABLE = re.compile(r"_\(\{(.*?)\}(?:\[|\.get\()", re.S)
_VALUE = re.compile(r""":\s*"([^"]+)\"""")
_TRANSLATE = re.compile(r"""translate\(\s*"([^"]+)\"""")


def console_strings() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((CONSOLE / "templates").glob("*.html")):
        text = path.read_text(encoding="utf-8")
        for match in _CALL.finditer(text):
            found.setdefault(match.group(2), path.name)
        for table in _TABLE.finditer(text):
            for value in _VALUE.finditer(table.group(1)):
                found.setdefault(value.group(1), path.name)
    for path in sorted(CONSOLE.glob("*.py")):
        for match in _TRANSLATE.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(1), path.name)
    return found
