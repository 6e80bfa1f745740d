"""The console speaks Chinese by default and English on request, from the same gettext catalogs
as the kiosk (locale/zh_CN/LC_MESSAGES/console.po, read by kiosk.i18n)."""

from __future__ import annotations

import re

from catalog_scan import ROOT, console_strings

from kiosk.i18n import catalog, parse_po

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def test_the_scanner_finds_the_console_strings() -> None:
    strings = console_strings()
    assert "Sign in" in strings and "Device offline" in strings and "Services per day" in strings
    assert len(strings) >= 80


def test_every_console_string_has_a_chinese_translation() -> None:
    zh = catalog("zh_CN")
    missing = [f"{where}: {msgid!r}" for msgid, where in console_strings().items() if msgid not in zh]
    assert not missing, "add these to locale/zh_CN/LC_MESSAGES/console.po:\n" + "\n".join(missing)


def test_console_translations_keep_their_placeholders() -> None:
    po = parse_po(ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "console.po")
    for msgid, msgstr in po.items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid
        assert msgstr != msgid, f"not translated: {msgid!r}"


def test_console_translations_agree_with_the_other_catalogs() -> None:
    """The catalogs are merged into one: the same msgid must not mean two things."""
    po_dir = ROOT / "locale" / "zh_CN" / "LC_MESSAGES"
    console = parse_po(po_dir / "console.po")
    clashes = [f"{other.name}: {msgid!r} {theirs!r} vs {console[msgid]!r}"
               for other in sorted(po_dir.glob("*.po")) if other.name != "console.po"
               for msgid, theirs in parse_po(other).items() if msgid in console and console[msgid] != theirs]
    assert not clashes, "use another msgid in the console:\n" + "\n".join(clashes)
