"""Every prompt the voice can say, and the pieces its sentences are composed of.

The prompts are the citizen-facing translations (``locale/<lang>/LC_MESSAGES``: card, face,
flows, kiosk, pinpad, ui and the later idcard, card_loss, ecard, reconcile, ui_issue19; the
operator-only field, sync and console catalogs are never spoken). A prompt
with ``{placeholders}`` is a :class:`Template`: its literal parts are rendered as phrases and
each slot is filled at run time from pre-rendered pieces (numbers, digits, dates, bank names)
or, for personal data, not said at all (:data:`PRIVATE`).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kiosk.i18n import LOCALE_DIR, parse_po
from kiosk.voice import numbers

SPOKEN_CATALOGS = ("card", "card_loss", "ecard", "eyes_free", "face", "flows", "idcard", "kiosk", "pinpad",
                   "reconcile", "ui", "ui_issue19")
LANGUAGES = ("zh_CN", "en")
BANKS_FILE = LOCALE_DIR.parent / "config" / "base.toml"

# Slot name -> how its value is read. Anything not listed is personal or free text: never spoken.
COUNT_SLOTS = frozenset({"n", "left", "seconds", "minutes", "total", "minimum", "days", "count"})
ORDINAL_SLOTS = frozenset({"index"})
DIGIT_SLOTS = frozenset({"hotline"})
DATE_SLOTS = frozenset({"until", "start", "date"})
BANK_SLOTS = frozenset({"bank"})
PRIVATE = "private"
# Prompts whose counts are the number of PIN digits typed so far: a bystander could learn the
# PIN's length from them, so their counts are personal (they stay on screen only).
PIN_LENGTH_TEMPLATES = frozenset({"{count} of {total} digits entered", "Enter {n} more digits.",
                                  "Too few digits. Enter at least {n} digits."})
MAX_SPOKEN_NUMBER = 120         # numbers rendered as words; larger ones are read digit by digit
YEARS = range(2020, 2061)         # dates said: certification periods, near today
PAST_YEARS = range(1990, 2020)    # private mode only: a card's issue date on its status screen

_SLOT = re.compile(r"\{(\w+)\}")
_ONLY_PUNCTUATION = re.compile(r"^[\s，。！？、：；“”,.!?:;\"'()（）…\-—]*$")


def slot_kind(msgid: str, name: str) -> str:
    if msgid in PIN_LENGTH_TEMPLATES:
        return PRIVATE
    for kind, names in (("count", COUNT_SLOTS), ("ordinal", ORDINAL_SLOTS), ("digits", DIGIT_SLOTS),
                        ("date", DATE_SLOTS), ("bank", BANK_SLOTS)):
        if name in names:
            return kind
    return PRIVATE


@dataclass(frozen=True)
class Slot:
    name: str
    kind: str


@dataclass(frozen=True)
class Template:
    msgid: str
    language: str
    text: str
    parts: tuple[str | Slot, ...]     # literal phrases (spoken) and slots, in order

    @property
    def phrases(self) -> list[str]:
        return [p for p in self.parts if isinstance(p, str) and is_spoken(p)]


@dataclass(frozen=True)
class Piece:
    """One clip of the pack: a phrase of a prompt, a number, a bank name..."""

    language: str
    text: str
    kind: str

    @property
    def key(self) -> str:
        return piece_key(self.language, self.text)


def piece_key(language: str, text: str) -> str:
    return hashlib.sha256(f"{language}\0{text}".encode()).hexdigest()[:16]


def is_spoken(text: str) -> bool:
    return not _ONLY_PUNCTUATION.match(text)


def clean(text: str) -> str:
    return " ".join(text.split())


def _parse(msgid: str, language: str, text: str) -> Template:
    parts: list[str | Slot] = []
    at = 0
    for match in _SLOT.finditer(text):
        if match.start() > at:
            parts.append(clean(text[at:match.start()]))
        parts.append(Slot(match.group(1), slot_kind(msgid, match.group(1))))
        at = match.end()
    if at < len(text):
        parts.append(clean(text[at:]))
    return Template(msgid, language, clean(text), tuple(p for p in parts if p != ""))


@cache
def templates(language: str) -> tuple[Template, ...]:
    """Every spoken prompt in ``language`` (English = the msgids)."""
    out: dict[str, Template] = {}
    for name in SPOKEN_CATALOGS:
        for msgid, zh in parse_po(LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{name}.po").items():
            text = zh if language == "zh_CN" else msgid
            if is_spoken(_SLOT.sub("", text)):
                out.setdefault(msgid, _parse(msgid, language, text))
    return tuple(out.values())


@cache
def banks() -> tuple[tuple[str, str], ...]:
    """(Chinese, English) names of the configured banks: their names are pieces too."""
    data = tomllib.loads(Path(BANKS_FILE).read_text(encoding="utf-8"))
    return tuple((bank["name_zh"], bank["name_en"]) for bank in data.get("banks", []))


def number_words(language: str, n: int, *, count: bool) -> str:
    if language == "zh_CN":
        return numbers.zh_cardinal(n, count=count)
    return numbers.en_cardinal(n)


def date_words(language: str, year: int, month: int, day: int) -> list[str]:
    """A date as the pieces it is said in: 二零二七年 / 六月 / 三十日; June / thirty / 2027."""
    if language == "zh_CN":
        return [f"{''.join(numbers.ZH_DIGITS[int(d)] for d in str(year))}年",
                f"{numbers.zh_cardinal(month)}月", f"{numbers.zh_cardinal(day)}日"]
    return [numbers.EN_MONTHS[month - 1], numbers.en_cardinal(day), year_words_en(year)]


def year_words_en(year: int) -> str:
    if 1900 <= year < 2000:                 # nineteen ninety-five, as people say it
        rest = year % 100
        return f"nineteen {numbers.en_cardinal(rest) if rest >= 10 else f'oh {numbers.en_cardinal(rest)}'}"
    return numbers.en_cardinal(year)


@cache
def pieces(language: str) -> tuple[Piece, ...]:
    """Every clip the pack must hold for ``language``."""
    found: dict[str, Piece] = {}

    def add(text: str, kind: str) -> None:
        found.setdefault(text, Piece(language, text, kind))

    for template in templates(language):
        for phrase in template.phrases:
            add(phrase, "phrase")
    for n in range(MAX_SPOKEN_NUMBER + 1):
        add(number_words(language, n, count=False), "number")
        add(number_words(language, n, count=True), "number")
    for digit in "0123456789":
        add(numbers.zh_digits(digit) if language == "zh_CN" else numbers.en_digits(digit), "digit")
    for year in (*YEARS, *PAST_YEARS):     # the past ones for private mode (a card's issue date)
        add(date_words(language, year, 1, 1)[2 if language == "en" else 0], "year")
    for month in range(1, 13):
        add(date_words(language, 2000, month, 1)[0 if language == "en" else 1], "month")
    if language == "zh_CN":
        for day in range(1, 32):
            add(date_words(language, 2000, 1, day)[2], "day")
    for zh, en in banks():
        add(zh if language == "zh_CN" else en, "bank")
    from kiosk.voice import private  # headphone mode's pieces (family names, "ending in")

    for text in private.pieces(language):
        add(text, "private")
    return tuple(found.values())
