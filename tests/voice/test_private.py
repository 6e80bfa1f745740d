"""Private (headphone) mode of the composer: the personal values kiosk/voice/private.py lists are
read from clips in the pack; public mode still withholds every one of them; anything else stays
withheld in both."""

from __future__ import annotations

import pytest

from kiosk.i18n import translate
from kiosk.messages import flows as M
from kiosk.voice import catalog, private
from kiosk.voice.compose import composer
from kiosk.voice.pack import VoicePack

RESULT_LINES = [(M.LABEL_NAME, "张*明"), (M.LABEL_ID_NUMBER, "4401**********4324"), (M.LABEL_CARD_NUMBER, "A12345678"),
                (M.LABEL_ISSUED, "2016-03-01"), (M.LABEL_EXPIRES, "2029-01-01"), (M.LABEL_TRIES_LEFT, "3")]


def result_text(language: str) -> str:
    sep = "：" if language == "zh_CN" else ": "
    return " ".join(f"{translate(label, language)}{sep}{value}" for label, value in RESULT_LINES)


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_result_details_are_said_in_private_mode_only(language: str) -> None:
    text = result_text(language)
    public = composer(language).compose(text)
    assert not public.private
    assert not any(w in public.transcript for w in ("张", "Zhang", "4324", "四三二四", "four three two four"))
    said = composer(language).compose(text, private=True)
    assert said.private and said.complete
    expected = {"zh_CN": ["张某某", "尾号四三二四", "尾号五六七八", "二零一六年三月一日", "二零二九年一月一日", "三"],
                "en": ["Zhang", "ending in four three two four", "ending in five six seven eight", "March one two thousand sixteen",
                       "three"]}[language]
    for words in expected:
        assert words in said.transcript, (words, said.transcript)
    assert "4401" not in said.transcript and "12345" not in said.transcript   # never the whole number


def test_pin_digit_counts_and_the_confirmed_name() -> None:
    zh = composer("zh_CN")
    count = translate("{count} of {total} digits entered", "zh_CN").format(count=3, total=6)
    assert zh.compose(count).withheld == ("personal:count", "personal:total")
    assert zh.compose(count, private=True).transcript == "已输入三位，共六位"
    ask = translate(M.CONFIRM_NAME, "zh_CN").format(name="周*兰")
    assert "personal:name" in zh.compose(ask).withheld
    assert "周某某" in zh.compose(ask, private=True).transcript


@pytest.mark.parametrize("value", ["张建明", "欧*明", "4401**********43**", "ABCDEF"])
def test_what_private_mode_cannot_read_is_still_withheld(value: str) -> None:
    said = composer("zh_CN").compose(f"{translate(M.LABEL_NAME, 'zh_CN')}：{value}", private=True)
    assert said.withheld and "张建明" not in said.transcript and "欧" not in said.transcript
    assert all(p.text != value for p in said.parts)


def test_every_private_piece_has_a_clip(pack: VoicePack) -> None:
    for language in catalog.LANGUAGES:
        for text in [*private.pieces(language), *(catalog.date_words(language, y, 1, 1)[0 if language == "zh_CN" else 2]
                                                  for y in catalog.PAST_YEARS)]:
            assert pack.clip_for(language, text) is not None, (language, text)


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_small_number_above_the_rendered_words_is_read_digit_by_digit(language: str, pack: VoicePack) -> None:
    said = composer(language).compose(f"{translate(M.LABEL_TRIES_LEFT, language)}：150", private=True)
    assert said.complete and said.parts
    assert all(pack.clip_for(language, part.text) is not None for part in said.parts), said.transcript
