"""Mandarin text front end: the pinyin the voice is rendered from.

Readings come from pypinyin (pinned) with a small reviewed list of phrases where its dictionary
picks the wrong reading for this kiosk's sentences (重置 chóng, 还可 hái...), after numbers are
normalised (:mod:`kiosk.voice.numbers`) and 一/不 take their spoken tones. Output is one string
of TONE3 syllables per prompt ("5" = neutral tone) with " / " at each pause (punctuation).

The reviewed table ``voice/pinyin.tsv`` is the authority the pack is rendered from; a test fails
when this front end reads any prompt differently, so a dictionary update cannot change the
voice unnoticed.
"""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin, load_phrases_dict

from kiosk.voice.numbers import normalise_zh

# Reviewed against the kiosk's prompts: pypinyin's default reading is wrong in these phrases.
PHRASE_READINGS: dict[str, str] = {
    "重置": "chong2 zhi4",
    "重新": "chong2 xin1",
    "重试": "chong2 shi4",
    "重输": "chong2 shu1",
    "重发": "chong2 fa1",
    "还可": "hai2 ke3",
    "还可以": "hai2 ke3 yi3",
    "还剩": "hai2 sheng4",
    "还需": "hai2 xu1",
    "还要": "hai2 yao4",
    "还是": "hai2 shi4",
    "还没": "hai2 mei2",
    "还没有": "hai2 mei2 you3",
    "还有": "hai2 you3",
    "还在": "hai2 zai4",
    "还卡": "huan2 ka3",
    "银行": "yin2 hang2",
    "长期": "chang2 qi1",
    "长按": "chang2 an4",
    "朝上": "chao2 shang4",
    "朝里": "chao2 li3",
    "朝向": "chao2 xiang4",
    "只能": "zhi3 neng2",
    "发放": "fa1 fang4",
    "验证码": "yan4 zheng4 ma3",
    "得到": "de2 dao4",
    "处理": "chu3 li3",
    "办理": "ban4 li3",
    "为准": "wei2 zhun3",
    "作为": "zuo4 wei2",
    "因为": "yin1 wei4",
    "数据": "shu4 ju4",
    "数字": "shu4 zi4",
    "照片": "zhao4 pian4",
    "长时间": "chang2 shi2 jian1",
    "设为": "she4 wei2",
    "为六位": "wei2 liu4 wei4",
    "均为": "jun1 wei2",
    "发卡": "fa1 ka3",
    "幺": "yao1",
    "窗口重新": "chuang1 kou3 chong2 xin1",     # not 口重 (kǒu zhòng, "salty")
    "没收到": "mei2 shou1 dao4",                 # not 没收 (mò shōu, "confiscate")
    "应为": "ying1 wei2",
    "电子": "dian4 zi3",
    "调亮": "tiao2 liang4",
    "重听": "chong2 ting1",
    # Family names (private headphone mode, kiosk/voice/private.py) read as surnames.
    "曾某": "zeng1 mou3",
    "任某": "ren2 mou3",
    "覃某": "qin2 mou3",
    "设置过电子": "she4 zhi4 guo4 dian4 zi3",     # not 过电 (guò diàn) and a neutral 子
}
PAUSE = "/"
_PUNCTUATION = re.compile(r"[，。！？、：；,.!?:;（）()…—\-\n]+")
_DROP = re.compile(r"[\s“”\"'‘’《》「」]+")
_SYLLABLE = re.compile(r"^[a-z]+[1-5]$")
_DIGIT_CHARS = frozenset("零幺一二三四五六七八九")
_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        load_phrases_dict({phrase: [[_mark(s)] for s in reading.split()] for phrase, reading in PHRASE_READINGS.items()})
        _loaded = True


def _mark(syllable: str) -> str:
    """TONE3 ("chong2") -> pypinyin's own tone-marked form ("chóng"), which load_phrases_dict takes."""
    from pypinyin.style._tone_convert import tone3_to_tone

    return tone3_to_tone(syllable)


def clauses(text: str) -> list[str]:
    """The sentence's clauses in the order they are said: numbers as words, punctuation as pauses."""
    text = _DROP.sub("", normalise_zh(text))
    return [part for part in _PUNCTUATION.split(text) if part]


def reading(text: str) -> str:
    """The prompt's pinyin: TONE3 syllables, " / " between clauses."""
    _load()
    out: list[str] = []
    for clause in clauses(text):
        syllables = lazy_pinyin(clause, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: [])
        chars = [c for c in clause if "\u4e00" <= c <= "\u9fff"]
        if len(syllables) != len(chars):
            raise ValueError(f"cannot read {clause!r}: {len(chars)} characters but {len(syllables)} syllables")
        out.append(" ".join(_sandhi(chars, syllables)))
    return f" {PAUSE} ".join(out)


def _sandhi(chars: list[str], syllables: list[str]) -> list[str]:
    """一 and 不 change tone before another syllable, as every speaker says them (不是 bú shì)."""
    result = list(syllables)
    for i, char in enumerate(chars[:-1]):
        nxt = syllables[i + 1][-1]
        # A digit read out in a string of digits keeps its tone: 二零二一年 èr líng èr yī nián.
        in_digits = chars[i + 1] in _DIGIT_CHARS or (i > 0 and chars[i - 1] in _DIGIT_CHARS)
        if char == "不" and syllables[i] == "bu4" and nxt == "4":
            result[i] = "bu2"
        elif char == "一" and syllables[i] == "yi1" and not in_digits and not (i > 0 and chars[i - 1] == "第"):
            result[i] = "yi2" if nxt == "4" else "yi4"
    return result


def check_syllables(pinyin: str) -> list[str]:
    """The syllables of a table entry (pauses dropped); raises on a malformed one."""
    syllables = [s for s in pinyin.split() if s != PAUSE]
    bad = [s for s in syllables if not _SYLLABLE.match(s)]
    if bad:
        raise ValueError(f"malformed pinyin syllables {bad} in {pinyin!r}")
    return syllables
