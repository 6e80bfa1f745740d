"""Where the e-card PIN service's keys live in the PIN pad, and the demo's stand-in key ceremony.

The e-card platform owns its own master key in the pad (index 2), apart from the PSAM's; each
operation's working key goes to slot 3 under it (backend/ecard_pin.py sends it wrapped). A real
kiosk gets that master key in the two-custodian ceremony (docs/ecard.md); the demo kiosk, whose pad
is the simulator and whose platform is the embedded backend, gets a fixed TEST key in both.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from drivers.crypto.ciphers import xor

log = logging.getLogger(__name__)

ECARD_MASTER_INDEX = 2
ECARD_WORK_INDEX = 3
# The pad driver's named working keys: the card PIN and MAC keys under the PSAM's master key, and the
# e-card PIN service's under its own (kiosk/app.py creates the pad with these).
KEY_SLOTS: dict[str, int | tuple[int, int]] = {"pin": 1, "mac": 2, "ecard": (ECARD_MASTER_INDEX, ECARD_WORK_INDEX)}
# TEST components (demo and tests only; a real pad's come from its custodians, never from code).
DEMO_COMPONENTS = ("00112233445566778899AABBCCDDEEFF", "0F0E0D0C0B0A09080706050403020100")


def combined(components: tuple[str, ...] = DEMO_COMPONENTS) -> bytes:
    return functools.reduce(xor, (bytes.fromhex(part) for part in components), bytes(16))


def demo_ceremony(simulator: Any, backend_url: str, operator_token: str, kiosk_id: str, algorithm: str,
                  components: tuple[str, ...] = DEMO_COMPONENTS) -> str | None:
    """Demo only: the simulated pad holds the e-card master key as if the custodians had typed it,
    and the platform has the same components registered (its operator endpoint, as in the ceremony).
    Returns a problem sentence, or None."""
    import httpx

    from drivers.crypto.ciphers import cipher_for, kcv

    key = combined(components)
    simulator.provision_master_key(algorithm, key, index=ECARD_MASTER_INDEX)
    check = kcv(cipher_for(algorithm, key)).hex().upper()
    try:
        r = httpx.put(f"{backend_url}/v1/operator/kiosks/{kiosk_id}/ecard-pin-key", timeout=10,
                      headers={"Authorization": f"Bearer {operator_token}"},
                      json={"algorithm": algorithm, "components": list(components), "kcv": check})
    except httpx.HTTPError as exc:
        return f"e-card PIN key: the platform could not be reached ({type(exc).__name__})"
    if r.status_code != 200:
        return f"e-card PIN key: the platform refused the demo ceremony (HTTP {r.status_code})"
    log.info("demo e-card PIN key in the simulated pad and the embedded platform", extra={"kiosk_id": kiosk_id})
    return None
