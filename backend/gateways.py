"""Outside services behind small interfaces: the SMS gateway and the bank verification gateway.

Production plugs in the operator's SMS provider and the banks' verification platform; the
development implementations below keep everything in the backend's own database so that tests
and the demo can read what would have been sent, and so that replicas share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from backend import bulk
from backend.clock import Clock
from backend.db import bank_test_accounts, dev_sms_outbox
from kiosk.config.schema import Bank


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Deliver ``text`` to ``phone``; raise on failure (the caller decides whether to retry)."""


class DevSmsGateway:
    """Writes each message to ``dev_sms_outbox`` (the "phone" that tests and the demo read)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def send(self, phone: str, text: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(dev_sms_outbox.insert().values(phone=phone, text=text, sent_at=self._clock()))

    def send_many(self, messages: list[tuple[str, str]]) -> None:
        """A batch's notifications in one transaction (all or none: a failure retries them all)."""
        with self._engine.begin() as conn:
            self.write_in(conn, messages)

    def write_in(self, conn: Connection, messages: list[tuple[str, str]]) -> None:
        """The messages written on ``conn``, in its transaction. This gateway is a table, so ingest
        writes a record's message in the record's own transaction: they commit together, nothing
        is claimed or swept afterwards, none is lost or sent twice (a network gateway has no such
        method and goes through the claim after commit, backend/notify.py)."""
        if messages:
            now = self._clock()
            bulk.insert(conn, dev_sms_outbox, [{"phone": p, "text": t, "sent_at": now} for p, t in messages])


@dataclass(frozen=True)
class BankAnswer:
    """What the bank's verification platform says about one card."""

    outcome: str       # ok | mismatch | phone_mismatch | credit_card | bank_not_connected


class BankGateway(Protocol):
    def verify(self, bank: Bank, name: str, id_number: str, card_number: str, phone: str) -> BankAnswer:
        """Ask ``bank`` whether the card belongs to this person with this reserved phone."""


class SimulatedBankGateway:
    """Answers from ``bank_test_accounts`` (seeded); a bank listed as not connected never answers."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def verify(self, bank: Bank, name: str, id_number: str, card_number: str, phone: str) -> BankAnswer:
        if not bank.connected:
            return BankAnswer("bank_not_connected")
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(bank_test_accounts).where(
                bank_test_accounts.c.bank_code == bank.code,
                bank_test_accounts.c.card_number == card_number)).mappings().first()
        if row is None:
            return BankAnswer("mismatch")      # the bank does not say whether the card exists
        if row["kind"] != "debit":
            return BankAnswer("credit_card")
        if row["name"] != name or row["id_number"].upper() != id_number.upper():
            return BankAnswer("mismatch")
        if row["phone"] != phone:
            return BankAnswer("phone_mismatch")
        return BankAnswer("ok")
