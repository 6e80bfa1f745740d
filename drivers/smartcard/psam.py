"""What the card layer needs from a PSAM; one module per PSAM command set (``psam_pboc`` first).

A PSAM holds the issuer master keys and the PIN pad's master key; the kiosk never sees either.
Secret inputs and outputs are bytearrays: the caller zeroes what it passes, and what it gets.
"""

from __future__ import annotations

from typing import Protocol

from drivers.smartcard.api import WrappedWorkingKey


class Psam(Protocol):
    def external_auth_data(self, key_id: int, algorithm: str, card_id: bytes,
                           first: bytes, second: bytes) -> bytes:
        """The 16 bytes of ``00 82 00 <key id> 10``: cryptogram(8) || first challenge(8)."""
        ...

    def begin_session(self, key_id: int, algorithm: str, card_id: bytes, challenge: bytes) -> None:
        """Derive the session key of ``key_id`` for this card and challenge, for encrypt/mac."""
        ...

    def encrypt(self, plain: bytearray) -> bytearray: ...

    def mac(self, data: bytes | bytearray) -> bytes: ...

    def new_pin_working_key(self, algorithm: str) -> WrappedWorkingKey: ...

    def decrypt_pin_block(self, block: bytes, pan: str, fmt: int) -> bytearray:
        """The PIN as BCD digits padded with F (the card's format), in a bytearray to zero."""
        ...
