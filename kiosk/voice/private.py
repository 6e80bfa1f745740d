"""What private (headphone) audio may say that the public hall never hears, and from which pieces.

In private mode the composer (:mod:`kiosk.voice.compose`) also reads personal values, but still
only from clips rendered ahead of time, so nothing outside this list can ever be said:

* a masked name ("张*明") as its family name and 某 ("张某某"), for the 100 commonest family
  names (others are not said); English: the family name in pinyin ("Zhang");
* a masked or long number (ID number, card number, phone) as its last four characters only
  ("尾号四三二四" / "ending in four three two four");
* the PIN digit counts ("3 of 6 digits entered"), so a person who cannot see the dots knows
  where they are;
* dates and date ranges on a result screen, and small numbers (tries left).

Anything else (a full name, a whole number, free text) is still withheld.
"""

from __future__ import annotations

import re
from functools import cache

from pypinyin import Style, lazy_pinyin

# The 100 commonest family names (Ministry of Public Security, 2020 census order, rounded).
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
            "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
            "龚邵万钱严覃武戴莫孔向汤")
# Family names whose reading differs from the character's common one (pypinyin's default).
SURNAME_PINYIN = {"曾": "Zeng", "任": "Ren", "覃": "Qin"}
TAIL_DIGITS = 4

WORDS = {"zh_CN": {"tail": "尾号", "to": "至", "X": "叉"},
         "en": {"tail": "ending in", "to": "to", "X": "X"}}

MASKED_NAME = re.compile(r"([\u4e00-\u9fff])(\*+)([\u4e00-\u9fff]?)")
LONG_NUMBER = re.compile(r"[A-Za-z]?[\d*]{6,}[\dXx]")


def surname_piece(language: str, surname: str, length: int) -> str:
    """The clip's text for a masked name of ``length`` characters with this family name."""
    if language == "zh_CN":
        return surname + ("某" if length <= 2 else "某某")
    return surname_pinyin(surname)


def surname_pinyin(surname: str) -> str:
    return SURNAME_PINYIN.get(surname) or lazy_pinyin(surname, style=Style.NORMAL)[0].replace("v", "u").capitalize()


@cache
def pieces(language: str) -> tuple[str, ...]:
    """Every clip private mode needs beyond the prompts, numbers and dates of the public pack."""
    out = list(WORDS[language].values())
    for surname in SURNAMES:
        for length in (2, 3):
            text = surname_piece(language, surname, length)
            if text not in out:
                out.append(text)
    return tuple(out)


def name_words(language: str, masked: str) -> list[str] | None:
    """"张*明" -> ["张某某"]; None for a family name without a clip or a name not masked."""
    found = MASKED_NAME.fullmatch(masked)
    if found is None or found.group(1) not in SURNAMES:
        return None
    return [surname_piece(language, found.group(1), len(masked))]


def tail_words(language: str, value: str, digit_words) -> list[str] | None:
    """A masked or whole long number -> "ending in" and its last four characters, or None."""
    tail = value[-TAIL_DIGITS:]
    if len(value) < TAIL_DIGITS or "*" in tail:
        return None
    words = [WORDS[language]["tail"]]
    for char in tail:
        if char.isdigit():
            words.append(digit_words(char))
        elif char in "Xx":
            words.append(WORDS[language]["X"])
        else:
            return None
    return words
