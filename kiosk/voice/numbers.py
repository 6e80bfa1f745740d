"""Numbers read the way a person reads them aloud, in Mandarin and English.

* A service number, PIN or phone number is read digit by digit, with 1 as 幺 (yāo), as hotline
  operators do: 12333 -> 幺二三三三.
* A count before a measure word uses 两, not 二: 2次 -> 两次; an ordinal keeps 二: 第2步 -> 第二步.
"""

from __future__ import annotations

import re

ZH_DIGITS = "零一二三四五六七八九"
ZH_DIGIT_STRING = "零幺二三四五六七八九"      # digit by digit: 1 is 幺 so it is not heard as 七
EN_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
           "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]
# Measure words after which 2 is 两 (a count of things, not the numeral "two").
MEASURE_WORDS = "次位个分秒天条步张年月周项"
MAX_CARDINAL = 9999


def zh_cardinal(n: int, *, count: bool = False) -> str:
    """0..9999 as Mandarin words; ``count`` makes a lone 2 (and 2 thousands/hundreds) 两."""
    if not 0 <= n <= MAX_CARDINAL:
        raise ValueError(f"number {n} is outside 0..{MAX_CARDINAL}; read it digit by digit instead")
    if n < 10:
        return "两" if count and n == 2 else ZH_DIGITS[n]
    if n < 20:
        return "十" + (ZH_DIGITS[n % 10] if n % 10 else "")
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        word = "两" if digit == 2 and value >= 100 else ZH_DIGITS[digit]
        out += word + unit
    return out


def zh_digits(digits: str) -> str:
    return "".join(ZH_DIGIT_STRING[int(d)] for d in digits if d.isdigit())


def en_cardinal(n: int) -> str:
    if not 0 <= n <= MAX_CARDINAL:
        raise ValueError(f"number {n} is outside 0..{MAX_CARDINAL}")
    if n < 20:
        return EN_ONES[n]
    if n < 100:
        return EN_TENS[n // 10] + ("-" + EN_ONES[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        return f"{EN_ONES[n // 100]} hundred" + (f" and {en_cardinal(rest)}" if rest else "")
    rest = n % 1000
    return f"{EN_ONES[n // 1000]} thousand" + (f" {en_cardinal(rest)}" if rest else "")


def en_digits(digits: str) -> str:
    return " ".join(EN_ONES[int(d)] for d in digits if d.isdigit())


_NUMBER = re.compile(r"\d+")


def normalise_zh(text: str) -> str:
    """Arabic numerals in a Mandarin sentence -> the words a person says."""
    def word(match: re.Match[str]) -> str:
        digits = match.group(0)
        before = text[match.start() - 1] if match.start() > 0 else ""
        after = text[match.end()] if match.end() < len(text) else ""
        if len(digits) >= 4 or digits.startswith("0"):
            return zh_digits(digits)        # a service number, a PIN example, a year
        return zh_cardinal(int(digits), count=after in MEASURE_WORDS and before != "第")

    return _NUMBER.sub(word, text)
