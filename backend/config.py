"""The backend's configuration: ``config/backend.toml``, an optional site file, then ``BACKEND__*``.

Same rules as the kiosk's configuration (kiosk/config/loader.py, reused here): unknown keys,
wrong types and missing files stop start-up with a message naming the file and the key.
Secrets (DSN, operator token, SMS pepper) come from environment variables, never from the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kiosk.config.loader import PROJECT_ROOT, ConfigError, load_layers, read_toml
from kiosk.config.schema import Bank

ENV_PREFIX = "BACKEND__"
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config" / "backend.toml"

__all__ = ["BackendConfig", "ConfigError", "load_backend_config", "load_banks", "resolve"]


@dataclass(frozen=True)
class ServerSection:
    host: str = "127.0.0.1"               # listen address of `kiosk-backend`
    port: int = 8765                      # listen port


@dataclass(frozen=True)
class DatabaseSection:
    dsn: str = ""                         # postgresql://user@host:port/db (secret: BACKEND__DATABASE__DSN)
    pool_size: int = 10                   # connections per replica
    read_dsn: str = ""                    # a streaming read replica for the operator API and roster (secret)
    migrate_on_start: bool = True         # run alembic migrations when a replica starts

    def validate(self) -> tuple[str, str] | None:
        if self.dsn and not self.dsn.startswith(("postgresql", "sqlite")):
            return "dsn", "expected a postgresql://... (or sqlite:///... for the embedded store) URL"
        return None


@dataclass(frozen=True)
class AuthSection:
    operator_token: str = ""              # bearer token for /v1/operator/* (secret: BACKEND__AUTH__OPERATOR_TOKEN)
    enrollment_token_ttl_h: int = 24      # one-time kiosk enrollment tokens expire after this long
    request_max_skew_s: int = 300         # X-Kiosk-Timestamp must be within this many seconds
    visit_ttl_s: int = 900                # a visit token (person data for one signed-in person) lives this long
    visits_per_kiosk_per_hour: int = 60   # visits a kiosk may open per rolling hour (a harvest trips it)


@dataclass(frozen=True)
class KeysSection:
    review_private_key: str = "var/backend/review_x25519.pem"  # X25519 key for review captures


@dataclass(frozen=True)
class SmsSection:
    gateway: Literal["dev"] = "dev"       # dev: messages go to a table tests can read
    code_ttl_s: int = 300                 # a code expires after this long
    resend_after_s: int = 60              # no new code to the same phone before this
    max_attempts: int = 5                 # wrong codes allowed per request
    per_phone_per_hour: int = 5           # codes per phone per rolling hour
    per_kiosk_per_hour: int = 120         # codes per kiosk per rolling hour
    wrong_codes_per_phone_per_hour: int = 10   # wrong codes for one phone (person) per hour: then locked
    wrong_codes_per_kiosk_per_hour: int = 60   # wrong codes entered at one kiosk per hour: then locked
    code_pepper: str = ""                 # mixed into the stored code hash (secret: BACKEND__SMS__CODE_PEPPER)
    dev_outbox_endpoint: bool = False     # older name of dev.endpoints (either turns the dev endpoints on)

    def validate(self) -> tuple[str, str] | None:
        if self.max_attempts < 1:
            return "max_attempts", "expected at least 1"
        if self.code_ttl_s < 30:
            return "code_ttl_s", "expected at least 30 seconds"
        return None


@dataclass(frozen=True)
class DevSection:
    endpoints: bool = False               # GET /v1/dev/sms-outbox, POST /v1/operator/seed; never in production


@dataclass(frozen=True)
class BankSection:
    gateway: Literal["simulator"] = "simulator"  # simulator: banks from banks_file, accounts from the seed
    banks_file: str = "config/base.toml"  # a TOML file with [[banks]] tables (the kiosk's own list)
    verification_ttl_s: int = 900         # a bank verification must be completed by SMS within this


@dataclass(frozen=True)
class CertificationSection:
    period_months: int = 12               # a certification covers this many months
    roster_due_within_days: int = 60      # the roster lists retirees due within this many days
    roster_templates_valid_days: int = 7  # a roster's sealed face templates open until then; the kiosk purges it


@dataclass(frozen=True)
class IngestSection:
    max_batch: int = 500                  # records per POST /v1/records:batch
    max_body_bytes: int = 32_000_000      # a batch body larger than this is refused (413)
    max_record_bytes: int = 1_000_000     # one record's canonical JSON larger than this is refused (422)
    max_seq_gap: int = 1_000_000          # a new seq this far above the kiosk's last is refused (422)
    max_request_bytes: int = 65_536       # any other request body larger than this is refused (413)
    concurrent_batches: int = 4           # batches one replica process works on at once (the rest wait their turn)


@dataclass(frozen=True)
class EmbeddedSection:
    data_dir: str = "var/demo/backend"    # `--embedded`: SQLite store and review key live here
    seed_file: str = "backend/demo_seed.json"  # loaded into an empty embedded store


@dataclass(frozen=True)
class EcardSection:
    issuer: str = "hrss-demo"             # the e-card platform's name in its codes (kiosks trust it by name)
    code_ttl_s: int = 60                  # a dynamic sign-in code is valid this long
    pin_max_failures: int = 5             # wrong e-card PINs in a row before the e-card PIN locks

    def validate(self) -> tuple[str, str] | None:
        if not 1 <= len(self.issuer) <= 32 or not self.issuer.isascii():
            return "issuer", "expected 1 to 32 ASCII characters"
        if not 10 <= self.code_ttl_s <= 3600:
            return "code_ttl_s", "expected 10 to 3600 seconds"
        if not 1 <= self.pin_max_failures <= 10:
            return "pin_max_failures", "expected 1 to 10"
        return None


@dataclass(frozen=True)
class ConsoleSection:
    enabled: bool = True                  # the staff console at /console (docs/console.md)
    cookie_secure: bool = True            # Secure session cookies (HTTPS); false only for http on localhost
    idle_timeout_s: int = 900             # a session unused this long is signed out
    max_failures: int = 5                 # wrong passwords / codes in a row before the account locks
    lockout_s: int = 900                  # how long a locked account stays locked
    heartbeat_stale_s: int = 180          # fleet alert: no heartbeat for this long
    outbox_max_age_s: int = 3600          # fleet alert: the oldest unsent record is older than this
    clock_drift_max_s: float = 30.0       # fleet alert: the kiosk clock is off by more than this


@dataclass(frozen=True)
class BackendConfig:
    server: ServerSection = field(default_factory=ServerSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    auth: AuthSection = field(default_factory=AuthSection)
    keys: KeysSection = field(default_factory=KeysSection)
    sms: SmsSection = field(default_factory=SmsSection)
    bank: BankSection = field(default_factory=BankSection)
    certification: CertificationSection = field(default_factory=CertificationSection)
    ingest: IngestSection = field(default_factory=IngestSection)
    embedded: EmbeddedSection = field(default_factory=EmbeddedSection)
    dev: DevSection = field(default_factory=DevSection)
    ecard: EcardSection = field(default_factory=EcardSection)
    console: ConsoleSection = field(default_factory=ConsoleSection)

    @property
    def dev_endpoints(self) -> bool:
        return self.dev.endpoints or self.sms.dev_outbox_endpoint


def resolve(value: str) -> Path:
    """Config paths are relative to the project root unless absolute."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


def load_backend_config(site_file: Path | None = None, environ: Mapping[str, str] | None = None,
                        config_file: Path = DEFAULT_CONFIG_FILE) -> BackendConfig:
    env = os.environ if environ is None else environ
    # The shared loader reads KIOSK__*; hand it the BACKEND__* variables under that name.
    translated = {"KIOSK__" + k[len(ENV_PREFIX):]: v for k, v in env.items() if k.startswith(ENV_PREFIX)}
    layers = [config_file] + ([site_file] if site_file is not None else [])
    try:
        return load_layers(BackendConfig, layers, translated)
    except ConfigError as exc:
        raise ConfigError(exc.source.replace("KIOSK__", ENV_PREFIX), exc.key, exc.problem) from None


def load_banks(config: BackendConfig) -> list[Bank]:
    """The cooperating banks, from the [[banks]] tables of ``bank.banks_file``."""
    from kiosk.config.loader import build_section

    path = resolve(config.bank.banks_file)
    tables = read_toml(path).get("banks", [])
    banks = [build_section(Bank, t, f"banks[{i}]", {}) for i, t in enumerate(tables)]
    if not banks:
        raise ConfigError(str(path), "banks", "no [[banks]] tables: the bank simulator needs the bank list")
    return banks
