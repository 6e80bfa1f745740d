"""The Mandarin front end: polyphones by context, numbers as people say them, and the reviewed
pinyin table (voice/pinyin.tsv) that the pack is rendered from."""

from __future__ import annotations

import pytest

from kiosk.voice import catalog, frontend, numbers
from kiosk.voice.pack import DEFAULT_DIR, TABLE_NAME, read_table


def test_every_prompt_reads_as_the_reviewed_table_says() -> None:
    table = read_table(DEFAULT_DIR / TABLE_NAME)
    pieces = catalog.pieces("zh_CN")
    missing = [p.text for p in pieces if p.text not in table]
    assert not missing, f"no reviewed reading for {missing[:5]}: run scripts/build_voice.py table and review"
    departed = {p.text: (table[p.text], frontend.reading(p.text)) for p in pieces
                if frontend.reading(p.text) != table[p.text]}
    assert not departed, f"the front end departs from the reviewed table: {list(departed.items())[:5]}"
    for reading in table.values():
        frontend.check_syllables(reading)


@pytest.mark.parametrize(("text", "expected"), [
    ("重置密码", "chong2 zhi4 mi4 ma3"),
    ("请重新输入", "qing3 chong2 xin1 shu1 ru4"),
    ("请选择银行", "qing3 xuan3 ze2 yin2 hang2"),
    ("还可以试", "hai2 ke3 yi3 shi4"),
    ("较长时间没有按键", "jiao4 chang2 shi2 jian1 mei2 you3 an4 jian4"),
    ("照片", "zhao4 pian4"),
    ("芯片朝上", "xin1 pian4 chao2 shang4"),
    ("发卡日期", "fa1 ka3 ri4 qi1"),
    ("不要", "bu2 yao4"),
    ("一次", "yi2 ci4"),
])
def test_polyphones_read_by_context(text: str, expected: str) -> None:
    assert frontend.reading(text) == expected


@pytest.mark.parametrize(("text", "words"), [
    ("拨打12333", "拨打幺二三三三"),
    ("还可尝试2次", "还可尝试两次"),
    ("第2步", "第二步"),
    ("密码为6位数字", "密码为六位数字"),
    ("不要用123456", "不要用幺二三四五六"),
    ("前17位", "前十七位"),
])
def test_numbers_read_as_a_person_would(text: str, words: str) -> None:
    assert numbers.normalise_zh(text) == words


def test_number_words_and_their_limits() -> None:
    assert numbers.zh_cardinal(20) == "二十" and numbers.zh_cardinal(105) == "一百零五"
    assert numbers.zh_cardinal(2, count=True) == "两" and numbers.zh_cardinal(12, count=True) == "十二"
    assert numbers.en_cardinal(42) == "forty-two"
    with pytest.raises(ValueError, match="digit by digit"):
        numbers.zh_cardinal(123456)


def test_punctuation_is_a_pause() -> None:
    assert frontend.reading("请稍候，正在读卡。") == "qing3 shao1 hou4 / zheng4 zai4 du2 ka3"
