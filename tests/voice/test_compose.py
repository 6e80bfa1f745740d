"""Composing sentences from pieces, and the privacy rule: personal data never reaches the audio."""

from __future__ import annotations

import pytest

from kiosk.voice import catalog
from kiosk.voice.compose import Composer, composer

PERSONAL = {"name": "张建明", "phone": "13812345678", "error": "E42张建明", "reason": "张建明", "state": "13812345678",
            "csv": "440101195001011234", "pdf": "440101195001011234", "districts": "张建明",
            "age": "440101195001011234", "queued": "13812345678", "dead": "147258", "percent": "13812345678",
            "last": "张建明"}
ID_NUMBER = "440101195001011234"


def _fill(template: catalog.Template) -> str:
    values = {}
    for part in template.parts:
        if isinstance(part, catalog.Slot):
            values[part.name] = {"count": "2", "ordinal": "2", "digits": "12333", "date": "2027-06-30",
                                 "bank": catalog.banks()[0][0 if template.language == "zh_CN" else 1],
                                 }.get(part.kind, PERSONAL.get(part.name, "147258"))
    return template.text.format(**values)


@pytest.mark.parametrize("language", catalog.LANGUAGES)
def test_every_prompt_is_spoken_whole_and_personal_slots_never(language: str) -> None:
    c = composer(language)
    for template in catalog.templates(language):
        text = _fill(template)
        result = c.compose(text)
        private = [p for p in template.parts if isinstance(p, catalog.Slot) and p.kind == catalog.PRIVATE]
        assert result.parts, template.msgid
        if not private:
            assert result.complete, (template.msgid, result.withheld)
            continue
        assert not result.complete and all(w.startswith("personal:") for w in result.withheld), template.msgid
        for slot in private:
            value = PERSONAL.get(slot.name, "147258")
            assert value not in result.transcript, template.msgid


def test_numbers_dates_banks_and_the_hotline_are_composed_from_pieces() -> None:
    zh = composer("zh_CN")
    assert zh.compose("密码错误，还可尝试2次，之后密码将被锁定。").transcript == "密码错误，还可尝试两次，之后密码将被锁定。"
    assert "幺二三三三" in zh.compose("请带身份证到服务窗口办理，或拨打12333。").transcript
    certified = zh.compose("认证有效期从2026-12-06到2027-12-05，养老金将继续发放。")
    assert certified.transcript == "认证有效期从二零二六年十二月六日到二零二七年十二月五日，养老金将继续发放。"
    assert [p.text for p in zh.compose("第 2 步，共 3 步").parts] == ["第", "二", "步，共", "三", "步"]
    assert zh.compose("中国银行暂未接入。").complete
    en = composer("en").compose("Wrong PIN. 2 tries left before the PIN locks.")
    assert en.transcript == "Wrong PIN. two tries left before the PIN locks."


def test_text_that_is_no_known_prompt_is_withheld() -> None:
    zh = composer("zh_CN")
    for personal in ("张建明", ID_NUMBER, "余额 1234.56 元", "6222020212345678000", "13812345678"):
        result = zh.compose(f"请稍候。 {personal}")
        assert result.transcript == "请稍候。" and result.withheld == ("unknown text",)
        assert personal not in result.transcript


def test_only_the_configured_hotline_is_read_as_digits() -> None:
    c = Composer("zh_CN", hotline="12333")
    result = c.compose("请带身份证到服务窗口办理，或拨打13812345678。")
    assert "幺三八" not in result.transcript and result.withheld == ("digits",)


def test_pin_length_counts_are_personal() -> None:
    result = composer("zh_CN").compose("请再输入 4 位数字。")
    assert result.withheld == ("personal:n",) and "四" not in result.transcript
