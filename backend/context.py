"""Everything a request handler needs, built once per replica (no state that matters lives here:
rate limits, SMS codes and records are all in the database, so replicas are interchangeable)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy.engine import Engine

from backend.clock import Clock, system_clock
from backend.config import BackendConfig, load_banks, resolve
from backend.crypto import load_or_create_review_key
from backend.db import make_engine
from backend.gateways import BankGateway, DevSmsGateway, SimulatedBankGateway, SmsGateway
from kiosk.config.schema import Bank


@dataclass
class Services:
    config: BackendConfig
    engine: Engine
    review_key: X25519PrivateKey
    banks: dict[str, Bank]
    sms_gateway: SmsGateway
    bank_gateway: BankGateway
    clock: Clock = field(default=system_clock)
    read_engine: Engine | None = None     # a read replica, if configured; lag only delays what operators see

    @property
    def reader(self) -> Engine:
        return self.read_engine or self.engine


def build_services(config: BackendConfig, clock: Clock = system_clock, engine: Engine | None = None,
                   create_review_key: bool = False) -> Services:
    if engine is None:
        if not config.database.dsn:
            raise ValueError("no database: set BACKEND__DATABASE__DSN (or run `kiosk-backend --embedded`)")
        engine = make_engine(config.database.dsn, config.database.pool_size)
    review_key = load_or_create_review_key(resolve(config.keys.review_private_key), create=create_review_key)
    banks = {b.code: b for b in load_banks(config)}
    read_engine = make_engine(config.database.read_dsn, config.database.pool_size) \
        if config.database.read_dsn else None
    return Services(config=config, engine=engine, review_key=review_key, banks=banks,
                    sms_gateway=DevSmsGateway(engine, clock), bank_gateway=SimulatedBankGateway(engine),
                    clock=clock, read_engine=read_engine)
