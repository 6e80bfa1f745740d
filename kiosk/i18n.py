"""Translations, one way for the whole kiosk: gettext ``.po`` catalogs under ``locale/``.

Source strings (msgids) are English; ``locale/zh_CN/LC_MESSAGES/kiosk.po`` holds the simplified
Chinese, the default language. The catalogs are read directly (no compiled ``.mo`` to forget to
build), and a test checks that every ``_()``/``N_()`` string in the code has a translation.

Each area keeps its own catalog file (``kiosk.po``, ``ui.po``, ``card.po``...); they are merged.

``_()`` translates now, in the current language; ``N_()`` only marks a string for extraction,
for tables built at import time that are translated when shown.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable
from pathlib import Path

from kiosk.config import PROJECT_ROOT

LOCALE_DIR = PROJECT_ROOT / "locale"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"

_lock = threading.Lock()
_language = DEFAULT_LANGUAGE
_catalogs: dict[str, dict[str, str]] = {}
_listeners: list[Callable[[str], None]] = []


def parse_po(path: Path) -> dict[str, str]:
    """Read msgid -> msgstr from a .po file (no plurals or contexts: the kiosk uses neither)."""
    catalog: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None

    def flush() -> None:
        if msgid is not None and msgstr is not None:
            key, value = "".join(msgid), "".join(msgstr)
            if key and value:
                catalog[key] = value

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            msgid, msgstr = [ast.literal_eval(line[6:])], None
            current = msgid
        elif line.startswith("msgstr "):
            msgstr = [ast.literal_eval(line[7:])]
            current = msgstr
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
        else:
            raise ValueError(f"{path}: cannot read line {raw!r}")
    flush()
    return catalog


def catalog(language: str) -> dict[str, str]:
    with _lock:
        if language not in _catalogs:
            merged: dict[str, str] = {}
            for path in sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
                merged.update(parse_po(path))
            _catalogs[language] = merged
        return _catalogs[language]


def set_language(language: str) -> None:
    global _language
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; expected one of {LANGUAGES}")
    changed = language != _language
    _language = language
    if changed:
        for listener in list(_listeners):
            listener(language)


def language() -> str:
    return _language


def on_language_changed(listener: Callable[[str], None]) -> None:
    _listeners.append(listener)


def _(msgid: str) -> str:
    return catalog(_language).get(msgid, msgid) if _language != "en" else msgid


def N_(msgid: str) -> str:
    return msgid


def translate(msgid: str, language: str) -> str:
    """Translate into a given language without switching (voice prompts, records)."""
    return msgid if language == "en" else catalog(language).get(msgid, msgid)
