from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.i18n import catalog
from kiosk.pin_policy import RULE_MESSAGES, PinPolicy, WeakPinError, WeakPinRule

ID_NUMBER = "440106195803152718"    # born 1958-03-15
PHONE = "13812345097"
POLICY = PinPolicy(initial_pin="123456", id_number=ID_NUMBER, bound_phone=PHONE)


def _rule(pin: str, old: str | None = None, policy: PinPolicy = POLICY) -> WeakPinRule | None:
    try:
        policy.check(bytearray(pin.encode()), bytearray(old.encode()) if old else None)
    except WeakPinError as exc:
        return exc.rule
    return None


@pytest.mark.parametrize(("pin", "rule"), [
    ("12345", WeakPinRule.FORMAT),
    ("1234567", WeakPinRule.FORMAT),
    ("12a456", WeakPinRule.FORMAT),
    ("000000", WeakPinRule.ALL_SAME),
    ("777777", WeakPinRule.ALL_SAME),
    ("123456", WeakPinRule.SEQUENCE),
    ("345678", WeakPinRule.SEQUENCE),
    ("654321", WeakPinRule.SEQUENCE),
    ("987654", WeakPinRule.SEQUENCE),
    ("580315", WeakPinRule.BIRTH_DATE),   # YYMMDD
    ("031558", WeakPinRule.BIRTH_DATE),   # MMDDYY
    ("150358", WeakPinRule.BIRTH_DATE),   # DDMMYY
    ("195803", WeakPinRule.BIRTH_DATE),   # YYYYMM
    ("031958", WeakPinRule.BIRTH_DATE),   # MMYYYY
    ("152718", WeakPinRule.ID_SUFFIX),
    ("345097", WeakPinRule.PHONE_SUFFIX),
])
def test_each_rule(pin: str, rule: WeakPinRule) -> None:
    assert _rule(pin) is rule


def test_initial_pin_refused_when_it_is_not_a_sequence() -> None:
    policy = PinPolicy(initial_pin="852963")
    assert _rule("852963", policy=policy) is WeakPinRule.INITIAL_PIN


def test_old_pin_refused() -> None:
    assert _rule("830627", old="830627") is WeakPinRule.SAME_AS_OLD
    assert _rule("830627", old="830628") is None


def test_good_pin_accepted() -> None:
    assert _rule("830627") is None


def test_id_ending_in_x_has_no_numeric_suffix_rule() -> None:
    policy = PinPolicy(initial_pin="123456", id_number="44010619580315271X")
    assert _rule("315271", policy=policy) is None


def test_fifteen_digit_id_birth_date() -> None:
    policy = PinPolicy(initial_pin="123456", id_number="440106580315271")
    assert _rule("580315", policy=policy) is WeakPinRule.BIRTH_DATE


def test_confirmation_mismatch() -> None:
    with pytest.raises(WeakPinError) as err:
        PinPolicy.check_confirmation(bytearray(b"830627"), bytearray(b"830628"))
    assert err.value.rule is WeakPinRule.MISMATCH


@given(st.text(alphabet="0123456789", min_size=6, max_size=6))
def test_errors_never_contain_the_digits(pin: str) -> None:
    try:
        POLICY.check(bytearray(pin.encode()))
    except WeakPinError as exc:
        assert pin not in str(exc) and pin not in repr(exc)
        assert pin not in exc.message or pin in ("123456", "654321")


def test_every_rule_has_a_chinese_message() -> None:
    zh = catalog("zh_CN")
    for rule in WeakPinRule:
        assert RULE_MESSAGES[rule] in zh, rule


def test_phone_suffix_verifier_refuses_the_suffix_and_rejects_hostile_parameters() -> None:
    """The verifier from the backend's person summary (backend.persons.phone_suffix_check)."""
    from backend.persons import phone_suffix_check
    from kiosk.pin_policy import PhoneSuffixCheck

    summary = {"phone_suffix_check": phone_suffix_check(PHONE)}
    check = PhoneSuffixCheck.from_summary(summary)
    assert check is not None and "salt" not in repr(check) and PHONE[-6:] not in repr(check)
    policy = PinPolicy(initial_pin="123456", id_number=ID_NUMBER, phone_suffix_check=check)
    assert _rule(PHONE[-6:], policy=policy) is WeakPinRule.PHONE_SUFFIX
    assert _rule("704918", policy=policy) is None
    assert PhoneSuffixCheck.from_summary({"phone_suffix_check": None}) is None
    assert PhoneSuffixCheck.from_summary(None) is None
    for bad in ({"n": 2**20}, {"n": 1000}, {"r": 64}, {"p": 8}, {"salt": "not base64!"}, {"kdf": "md5"}):
        assert PhoneSuffixCheck.from_summary({"phone_suffix_check": {**summary["phone_suffix_check"], **bad}}) is None
