"""TEST KEYS ONLY. Published here on purpose; no real issuer or pad key is ever in this repository.

The issuer master keys (one per card key id) live in the virtual PSAM; each virtual card holds
only the keys diversified from them by its card identification code, as a real card does.
"""

from __future__ import annotations

# Issuer master keys by card key id: 0A = RKSSSE (read key, external auth before EF06 on 3.0
# cards), 06 = the PIN-unblock key (external auth + MAC for reset and unblock).
TEST_MASTER_KEYS: dict[int, bytes] = {
    0x0A: bytes.fromhex("0A0A0A0A0A0A0A0A5445535430414B59"),    # "TEST0AKY" - test only
    0x06: bytes.fromhex("06060606060606065445535430364B59"),    # "TEST06KY" - test only
}

# A different set, for "wrong PSAM" tests: the card refuses what it computes.
WRONG_MASTER_KEYS: dict[int, bytes] = {kid: bytes(b ^ 0x5A for b in key) for kid, key in TEST_MASTER_KEYS.items()}

# The PIN pad's master key as loaded into the pad and the PSAM for tests and the demo.
TEST_PAD_MASTER_KEY = bytes.fromhex("11223344556677888877665544332211")
