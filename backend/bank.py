"""Bank-card real-name verification and account registration (DOMAIN.md, source 001).

The bank data is used only to verify identity: the card number is not stored, and no bank
account is ever linked to the new account.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from backend.context import Services
from backend.db import accounts, bank_verifications, persons
from backend.errors import ApiError
from backend.sms import issue_code, valid_phone, verify_code

MISMATCH_STEPS = [
    "Check the name, ID number, card number and phone number you entered.",
    "If they are right, the phone reserved at the bank may have changed: try a debit card of another cooperating bank.",
    "Or update your data at the bank's counter, then try again.",
    "If it still fails, call 12333 and leave your contact details.",
]
MISMATCH_STEPS_ZH = [
    "请核对输入的姓名、身份证号、银行卡号和手机号。",
    "如输入无误，可能是银行预留手机号已变更：请换用其他合作银行的借记卡。",
    "或到银行柜台更新预留信息后再试。",
    "仍不成功请致电12333并留下联系方式。",
]

_MESSAGES = {
    "mismatch": ("name, ID type or ID number does not match the bank's record",
                 "姓名、证件类型或证件号码与银行预留信息不一致"),
    "phone_mismatch": ("the phone number does not match the one reserved at the bank",
                       "手机号与银行预留手机号不一致"),
    "credit_card": ("credit cards cannot be used: please use a debit card of a cooperating bank",
                    "不能使用信用卡，请使用合作银行的借记卡"),
}


def verify_bank_card(services: Services, kiosk_id: str, body: dict[str, Any], evidence: str = "sscard",
                     ) -> dict[str, Any]:
    name, id_number = body.get("name"), body["id_number"].upper()
    if name is None:
        name = _ecard_visit_name(services, id_number, evidence)
    code, card, phone = body["bank_code"], body["card_number"], body["phone"]
    bank = services.banks.get(code)
    if bank is None:
        raise ApiError(422, "unknown_bank", f"bank {code!r} is not a cooperating bank; choose one from the list")
    if not (card.isdigit() and 12 <= len(card) <= 19):
        raise ApiError(422, "malformed", "card_number must be 12 to 19 digits")
    if not valid_phone(phone):
        raise ApiError(422, "malformed", "phone must be an 11-digit mainland mobile number")
    answer = services.bank_gateway.verify(bank, name, id_number, card, phone)
    if answer.outcome == "bank_not_connected":
        return {"outcome": "bank_not_connected",
                "message": bank.note_en or f"{bank.name_en} is not yet connected to the verification platform.",
                "message_zh": bank.note_zh or f"{bank.name_zh}尚未接入验证平台。",
                "next_steps": ["Use a debit card of another cooperating bank."]}
    if answer.outcome != "ok":
        en, zh = _MESSAGES[answer.outcome]
        steps = MISMATCH_STEPS if answer.outcome in ("mismatch", "phone_mismatch") else \
            ["Use a debit card of a cooperating bank."]
        steps_zh = MISMATCH_STEPS_ZH if answer.outcome in ("mismatch", "phone_mismatch") else \
            ["请使用合作银行的借记卡。"]
        return {"outcome": answer.outcome, "message": en, "message_zh": zh, "next_steps": steps,
                "next_steps_zh": steps_zh}
    issued, sms = issue_code(services, kiosk_id, "registration", phone)
    verification_id = str(uuid.uuid4())
    now = services.clock()
    with services.engine.begin() as conn:
        conn.execute(bank_verifications.insert().values(
            verification_id=verification_id, kiosk_id=kiosk_id, id_number=id_number, name=name,
            bank_code=code, phone=phone, sms_request_id=issued.request_id, created_at=now,
            expires_at=now + timedelta(seconds=services.config.bank.verification_ttl_s)))
    return {"outcome": "ok", "message": "The bank confirmed your details; a code was sent to the phone reserved at the bank.",
            "message_zh": "银行信息核验通过，验证码已发送至银行预留手机号。",
            "verification_id": verification_id, "sms": sms}


def _ecard_visit_name(services: Services, id_number: str, evidence: str) -> str:
    """The bureau's record of the name, for an e-card visit only (a card visit reads it off the card)."""
    if evidence != "e_card":
        raise ApiError(422, "malformed", "name is required unless the visit was opened by the e-card", field="name")
    with services.engine.connect() as conn:
        name = conn.execute(sa.select(persons.c.name).where(persons.c.id_number == id_number)).scalar()
    if name is None:
        raise ApiError(404, "unknown_person", "no record of this person at the bureau: please go to the counter")
    return str(name)


def _verification(services: Services, kiosk_id: str, verification_id: str) -> dict[str, Any]:
    with services.engine.connect() as conn:
        row = conn.execute(sa.select(bank_verifications).where(
            bank_verifications.c.verification_id == verification_id,
            bank_verifications.c.kiosk_id == kiosk_id)).mappings().first()
    if row is None:
        raise ApiError(404, "unknown_verification", "no such bank verification from this kiosk: start again")
    if row["used_at"] is not None:
        raise ApiError(409, "verification_used", "this bank verification was already used: start again")
    if services.clock() > row["expires_at"]:
        raise ApiError(410, "verification_expired", "the bank verification has expired: start again")
    return dict(row)


def resend_registration_code(services: Services, kiosk_id: str, verification_id: str) -> dict[str, Any]:
    ver = _verification(services, kiosk_id, verification_id)
    issued, sms = issue_code(services, kiosk_id, "registration", ver["phone"])
    with services.engine.begin() as conn:
        conn.execute(bank_verifications.update()
                     .where(bank_verifications.c.verification_id == verification_id)
                     .values(sms_request_id=issued.request_id))
    return sms


def register_account(services: Services, kiosk_id: str, verification_id: str, sms_code: str) -> dict[str, Any]:
    ver = _verification(services, kiosk_id, verification_id)
    check = verify_code(services, kiosk_id, ver["sms_request_id"], sms_code)
    if not check["ok"]:
        return {"ok": False, "outcome": check["reason"], "message": check["message"],
                "attempts_left": check["attempts_left"], "account_id": None}
    now = services.clock()
    with services.engine.begin() as conn:
        conn.execute(bank_verifications.update().where(bank_verifications.c.verification_id == verification_id)
                     .values(used_at=now))
        existing = conn.execute(sa.select(accounts.c.account_id).where(
            accounts.c.id_number == ver["id_number"])).scalar()
        if existing is not None:
            return {"ok": True, "outcome": "already_registered", "account_id": existing, "attempts_left": None,
                    "message": "You already have an account; sign in with it or reset its password."}
        account_id = str(uuid.uuid4())
        conn.execute(accounts.insert().values(account_id=account_id, id_number=ver["id_number"], name=ver["name"],
                                              phone=ver["phone"], verified_by=verification_id, created_at=now))
    return {"ok": True, "outcome": "created", "account_id": account_id, "attempts_left": None,
            "message": "Your real-name account is created. No bank account was linked to it."}
