"""Citizen messages for every pad error code (translated, each says what to do next), the doctor
check against the simulator, and the config-to-factory mapping."""

from __future__ import annotations

import dataclasses

import pytest

from drivers.api import Completion, CompletionCode
from drivers.pinpad.api import PinPadErrorCode
from kiosk.config.schema import KioskConfig, PinpadSection
from kiosk.doctor import Verdict
from kiosk.doctor.pinpad import checks, factory_kwargs
from kiosk.i18n import catalog, set_language
from kiosk.messages.pinpad import BY_COMPLETION, BY_ERROR_CODE, message_for

NEXT_STEP_WORDS = ("try again", "counter", "12333", "Enter")


@pytest.mark.parametrize("code", list(PinPadErrorCode))
def test_every_error_code_has_a_translated_message_with_a_next_step(code: PinPadErrorCode) -> None:
    message = BY_ERROR_CODE[code]
    assert any(word.lower() in message.todo.lower() for word in NEXT_STEP_WORDS), message.todo
    zh = catalog("zh_CN")
    assert message.what in zh and message.todo in zh


def test_message_for_completions() -> None:
    assert message_for(Completion("pinEntry", CompletionCode.SUCCESS)) is None
    failed = Completion("pinEntry", CompletionCode.COMMAND_ERROR, error_code="kcvMismatch")
    message = message_for(failed)
    assert message is not None and "12333" in message.todo and not message.retry
    for code in CompletionCode:
        if code is not CompletionCode.SUCCESS:
            assert code in BY_COMPLETION
    set_language("zh_CN")
    try:
        what, todo = message_for(Completion("pinEntry", CompletionCode.CANCELED)).render()  # type: ignore[union-attr]
        assert what == "密码输入已取消。" and "服务窗口" in todo
    finally:
        set_language("en")


def test_doctor_starts_the_simulator_and_reads_its_version() -> None:
    results = checks(KioskConfig())
    assert [r.verdict for r in results] == [Verdict.OK]
    assert "KMY350X-SIM" in results[0].detail and "simulator" in results[0].detail


def test_doctor_names_a_missing_port_and_ceremony_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = KioskConfig()
    missing = dataclasses.replace(base, pinpad=dataclasses.replace(base.pinpad, backend="serial",
                                                                   port=str(tmp_path / "epp")))
    result = checks(missing)[0]
    assert result.verdict is Verdict.PROBLEM and "does not exist" in result.detail and result.todo
    ceremony = dataclasses.replace(base, pinpad=dataclasses.replace(base.pinpad, ceremony_mode=True))
    assert [r.verdict for r in checks(ceremony)] == [Verdict.OK, Verdict.WARN]


def test_factory_kwargs_cover_the_whole_table() -> None:
    kwargs = factory_kwargs(PinpadSection())
    assert kwargs["algorithm"] == "sm4" and kwargs["backend"] == "simulator"
    used = {"pin_algorithm"} | set(kwargs)
    assert {f.name for f in dataclasses.fields(PinpadSection)} <= used
    assert PinpadSection(pin_block_format="iso4", pin_algorithm="3des").validate() is not None
