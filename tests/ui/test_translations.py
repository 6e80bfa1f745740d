"""Every _()/N_() string in ui/ and kiosk/ has a simplified-Chinese translation in locale/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from kiosk.i18n import catalog, parse_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _marked_strings(folder: str) -> dict[str, str]:
    """msgid -> where it is used, for every literal passed to _() or N_() under ``folder``."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_scanner_finds_the_shell_strings():
    strings = _marked_strings("ui")
    assert "Insert your card or touch the screen to start" in strings
    assert "{seconds} seconds left. Touch the screen to continue." in strings
    assert len(strings) >= 40


def test_every_marked_string_in_ui_and_kiosk_is_translated():
    zh = catalog("zh_CN")
    missing = [f"{where}: {msgid!r}" for folder in ("ui", "kiosk")
               for msgid, where in _marked_strings(folder).items() if msgid not in zh]
    assert not missing, "add these to locale/zh_CN/LC_MESSAGES/<area>.po:\n" + "\n".join(missing)


def test_ui_translations_keep_their_placeholders():
    ui_po = parse_po(ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "ui.po")
    for msgid, msgstr in ui_po.items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid
        assert msgstr != msgid, f"not translated: {msgid!r}"
