"""`kiosk enroll --token T`: create the kiosk's signing key (once) and register it at the backend.

Running it again keeps the existing key and registers it again (a lost answer or a new token is
harmless). The key is never replaced here: a new key would orphan the records already signed.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from kiosk.backend_client import BackendClient, Enrolled, Rejected, ServiceUnavailable
from kiosk.config import resolve_path
from kiosk.signing import KeyMissingError, Signer, SigningKeyError, create_key, key_path, load_signer

log = logging.getLogger(__name__)


def ensure_key(config: Any) -> tuple[Signer, bool]:
    """Load the kiosk key, creating it if there is none. Returns (signer, created)."""
    path = key_path(resolve_path(config.kiosk.data_dir), config.store.key_file)
    try:
        return load_signer(path), False
    except KeyMissingError:
        return create_key(path), True


def enroll(config: Any, token: str, *, base_url: str | None = None) -> tuple[Signer, Enrolled | Rejected | ServiceUnavailable]:
    signer, created = ensure_key(config)
    if created:
        log.info("kiosk key created", extra={"kiosk_id": config.kiosk.id})
    with BackendClient.from_config(config, signer, base_url=base_url) as client:
        return signer, client.enroll(signer.public_key_b64, token)


def enroll_command(config: Any, args: Any) -> int:
    token = getattr(args, "token", None)
    if not token:
        print("An enrollment token is needed: `kiosk enroll --token T` (the bureau's operator issues it).",
              file=sys.stderr)
        return 2
    if config.kiosk.id in ("", "CHANGE-ME"):
        print("Set kiosk.id in the site file first (the id the bureau assigned to this kiosk).", file=sys.stderr)
        return 2
    try:
        signer, answer = enroll(config, token)
    except SigningKeyError as exc:
        print(f"Cannot use the kiosk key: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Cannot write the kiosk key under {config.kiosk.data_dir}: {exc.strerror}; "
              "check the folder and its owner.", file=sys.stderr)
        return 1
    if isinstance(answer, Enrolled):
        print(f"Kiosk {config.kiosk.id} enrolled at {config.backend.url}; public key {signer.public_key_b64}")
        return 0
    if isinstance(answer, ServiceUnavailable):
        print(f"The backend at {config.backend.url} cannot be reached ({answer.reason}). The key is kept; "
              "check the network and backend.url, then run the same command again.", file=sys.stderr)
        return 1
    print(f"The backend refused the enrollment (HTTP {answer.status} {answer.error}: {answer.reason}). "
          "Ask the bureau's operator for a new token for this kiosk id, then run the command again.",
          file=sys.stderr)
    return 1
