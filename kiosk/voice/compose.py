"""Compose what a screen says from pre-rendered pieces, and keep personal data out of the audio.

The screen's words (already translated and formatted) are matched against the prompt templates
of :mod:`kiosk.voice.catalog`. Literal parts become their phrase clips; a slot becomes number,
digit, date or bank-name clips; a personal slot (name, phone number, PIN digit counts...) and
any text that is not a known prompt (a name, an ID number, a balance on a result screen) is
*withheld*: it never reaches the audio queue. Privacy is therefore by construction: only words
that were rendered ahead of time from the catalogs, and numbers of the few kinds listed as
public, can ever be said.

``private=True`` (headphones plugged in, :mod:`kiosk.voice.private`) also reads the personal
values that module lists (PIN digit counts, a masked name's family name, the last four
characters of a number, dates and small numbers on a result screen), still only from clips.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from kiosk.voice import catalog, numbers
from kiosk.voice import private as personal
from kiosk.voice.catalog import PRIVATE, Slot, Template

SLOT_JOIN_MS = 40               # a number inside a sentence: just a breath
DIGIT_JOIN_MS = 60              # digit by digit, as an operator reads a number
SENTENCE_PAUSE_MS = 280         # between two prompts (a title and its instruction)

_DATE = re.compile(r"(\d{4})(?:-|年)(\d{1,2})(?:-|月)(\d{1,2})日?")
_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[\s，。！？、：；,.!?:;()（）\-–—]")
# Private mode: personal values as they appear on screen, tried where no prompt matches.
_PRIVATE_VALUE = re.compile("|".join((
    r"(?P<range>\d{4}-\d{2}-\d{2}\s*[–—~至-]\s*\d{4}-\d{2}-\d{2})",
    r"(?P<date>\d{4}(?:-\d{2}-\d{2}|年\d{1,2}月\d{1,2}日))",
    r"(?P<name>" + personal.MASKED_NAME.pattern + ")",
    r"(?P<number>" + personal.LONG_NUMBER.pattern + ")",
    r"(?P<small>\d{1,3})(?!\d)")))


@dataclass(frozen=True)
class Part:
    text: str                   # the piece's words (its clip's text in the pack)
    pause_ms: int               # silence before it
    personal: bool = False      # a personal value, read in private (headphone) mode only


@dataclass(frozen=True)
class Composition:
    language: str
    parts: tuple[Part, ...]
    withheld: tuple[str, ...] = field(default=())    # *kinds* of what was not said, never the values

    @property
    def transcript(self) -> str:
        """What will be heard (numbers as digits words, withheld parts absent)."""
        joiner = "" if self.language == "zh_CN" else " "
        return joiner.join(p.text for p in self.parts)

    @property
    def complete(self) -> bool:
        return not self.withheld

    @property
    def private(self) -> bool:
        """Holds a personal value (said only in private audio mode)."""
        return any(p.personal for p in self.parts)


class Composer:
    """Text -> :class:`Composition` for one language. ``hotline`` is the only digit string said."""

    def __init__(self, language: str, hotline: str = "12333") -> None:
        self.language = language
        self.hotline = hotline
        self._by_first: dict[str, list[tuple[Template, re.Pattern[str]]]] = {}
        self._slot_first: list[tuple[Template, re.Pattern[str]]] = []
        for template in catalog.templates(language):
            pattern = re.compile(_pattern(template, self._banks()))
            first = template.parts[0]
            if isinstance(first, str):
                self._by_first.setdefault(_SPACE.sub("", first)[:1], []).append((template, pattern))
            else:
                self._slot_first.append((template, pattern))

    def _banks(self) -> list[str]:
        return [zh if self.language == "zh_CN" else en for zh, en in catalog.banks()]

    def compose(self, text: str, *, private: bool = False) -> Composition:
        text = " ".join(text.split())
        parts: list[Part] = []
        withheld: list[str] = []
        pos, unknown = 0, False
        while pos < len(text):
            if text[pos].isspace():
                pos += 1
                continue
            best = self._match(text, pos)
            if best is None and private:
                if _PUNCT.match(text, pos):          # "姓名：" before a value: the pause is enough
                    pos += 1
                    continue
                value = _PRIVATE_VALUE.match(text, pos)
                if value is not None:
                    if not self._private_value(value, parts):
                        withheld.append("personal value")       # a value with no clips: not said
                    unknown, pos = False, value.end()
                    continue
            if best is None:
                if not unknown:
                    withheld.append("unknown text")
                unknown = True
                pos += 1
                continue
            unknown = False
            template, match = best
            self._template_parts(template, match, parts, withheld, private)
            pos = match.end()
        return Composition(self.language, tuple(parts), tuple(withheld))

    def _private_value(self, found: re.Match[str], parts: list[Part]) -> bool:
        """A personal value read from clips (private mode); False when it has no clips."""
        kind = found.lastgroup or ""
        value = found.group(kind)
        words: list[str] | None
        if kind == "range":
            first, second = re.findall(r"\d{4}-\d{2}-\d{2}", value)
            one, two = self._date_words(first, private=True), self._date_words(second, private=True)
            words = None if one is None or two is None else [*one, personal.WORDS[self.language]["to"], *two]
        elif kind == "date":
            words = self._date_words(value, private=True)
        elif kind == "name":
            words = personal.name_words(self.language, value)
        elif kind == "number":
            words = personal.tail_words(self.language, value, self._digit_word)
        else:
            words = self._number_words(value, count=False)
        if words is None:
            return False
        pause = SENTENCE_PAUSE_MS if parts else 0
        parts.extend(Part(word, pause if n == 0 else SLOT_JOIN_MS, personal=True) for n, word in enumerate(words))
        return True

    def _digit_word(self, digit: str) -> str:
        return numbers.zh_digits(digit) if self.language == "zh_CN" else numbers.en_digits(digit)

    def _match(self, text: str, pos: int) -> tuple[Template, re.Match[str]] | None:
        best: tuple[Template, re.Match[str]] | None = None
        for template, pattern in self._by_first.get(text[pos], []) + self._slot_first:
            match = pattern.match(text, pos)
            if match and (best is None or match.end() > best[1].end()):
                best = (template, match)
        return best

    def _template_parts(self, template: Template, match: re.Match[str], parts: list[Part],
                        withheld: list[str], private_mode: bool = False) -> None:
        first = True
        slot_index = 0
        for part in template.parts:
            pause = SENTENCE_PAUSE_MS if first and parts else SLOT_JOIN_MS
            if isinstance(part, str):
                if catalog.is_spoken(part):
                    parts.append(Part(part, 0 if not first else pause))
                first = False
                continue
            value = match.group(f"s{slot_index}")
            slot_index += 1
            words = self._slot_words(part, value)
            personal = False
            if words is None and private_mode and part.kind == PRIVATE:
                words, personal = self._personal_words(template, part, value), True
            if words is None:
                withheld.append(part.kind if part.kind != PRIVATE else f"personal:{part.name}")
                first = False
                continue
            for n, word in enumerate(words):
                parts.append(Part(word, pause if n == 0 else (DIGIT_JOIN_MS if part.kind == "digits" else 0),
                                  personal))
            first = False

    def _slot_words(self, slot: Slot, value: str) -> list[str] | None:
        if slot.kind in ("count", "ordinal"):
            return self._number_words(value, count=slot.kind == "count")
        if slot.kind == "digits":
            return self._digits(value) if _only_digits(value) == _only_digits(self.hotline) else None
        if slot.kind == "date":
            return self._date_words(value)
        if slot.kind == "bank":
            return [value]
        return None

    def _personal_words(self, template: Template, slot: Slot, value: str) -> list[str] | None:
        """Private mode: a personal slot read from clips, or None (still withheld)."""
        if template.msgid in catalog.PIN_LENGTH_TEMPLATES and value.isdigit():
            return [catalog.number_words(self.language, int(value), count=True)]
        if slot.name == "name":
            return personal.name_words(self.language, value)
        if slot.name == "phone":
            return personal.tail_words(self.language, value, self._digit_word)
        return None

    def _date_words(self, value: str, *, private: bool = False) -> list[str] | None:
        found = _DATE.fullmatch(value)
        if found is None:
            return None
        try:
            day = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            return None
        if day.year not in catalog.YEARS and not (private and day.year in catalog.PAST_YEARS):
            return None
        return catalog.date_words(self.language, day.year, day.month, day.day)

    def _number_words(self, value: str, *, count: bool) -> list[str]:
        """A number as one word up to MAX_SPOKEN_NUMBER (the rendered ones), digit by digit above."""
        n = int(value)
        if n <= catalog.MAX_SPOKEN_NUMBER:
            return [catalog.number_words(self.language, n, count=count)]
        return self._digits(value)

    def _digits(self, value: str) -> list[str]:
        read = numbers.zh_digits if self.language == "zh_CN" else numbers.en_digits
        return [read(d) for d in value if d.isdigit()]


def _only_digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _pattern(template: Template, banks: list[str]) -> str:
    out = []
    index = 0
    for n, part in enumerate(template.parts):
        if isinstance(part, str):
            out.append(r"\s*".join(re.escape(c) for c in _SPACE.sub("", part)))
            continue
        group = f"s{index}"
        index += 1
        if part.kind in ("count", "ordinal"):
            body = r"\d{1,4}"
        elif part.kind == "digits":
            body = r"\d[\d\- ]{1,18}\d"
        elif part.kind == "date":
            body = r"\d{4}(?:-\d{2}-\d{2}|年\d{1,2}月\d{1,2}日)"
        elif part.kind == "bank":
            body = "|".join(re.escape(b) for b in sorted(banks, key=len, reverse=True)) or r"(?!)"
        else:
            body = r".+?" if n < len(template.parts) - 1 else r"\S+"
        out.append(rf"\s*(?P<{group}>{body})\s*")
    return "".join(out)


@cache
def composer(language: str, hotline: str = "12333") -> Composer:
    return Composer(language, hotline)
