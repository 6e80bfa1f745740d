"""Build the CardService from plain keyword arguments (kiosk/app.py maps [smartcard] config to them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from drivers.smartcard.service import SmartcardService
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard
from drivers.smartcard.virtual.inproc import PSAM_SLOT, InProcessReaders
from drivers.smartcard.virtual.psam import VirtualPsam


@dataclass
class VirtualCards:
    """The demo's operator-panel handle: put virtual cards in and take them out. TEST KEYS ONLY."""

    readers: InProcessReaders

    def insert_card(self, config: CardConfig | None = None) -> VirtualSsCard:
        card = VirtualSsCard(config or CardConfig())
        self.readers.insert(card)
        return card

    def remove_card(self) -> None:
        self.readers.remove()


def make_card_service(*, backend: Literal["pcsc", "virtual"] = "pcsc",
                      citizen_reader_pattern: str = "00 00$", psam_reader_pattern: str = "00 01$",
                      poll_timeout_ms: int = 250, command_timeout_s: float = 10.0,
                      initial_pin: str = "123456", apdu_trace: bool = False, pin_algorithm: str = "sm4",
                      insert_demo_psam: bool = True, max_pin_tries: int = 3) -> tuple[SmartcardService, VirtualCards | None]:
    """Returns ``(service, virtual_cards)``; ``virtual_cards`` is None for "pcsc".

    "virtual" is the demo profile's in-process card and PSAM (no pcscd, no vpcd). The service
    is not started: call ``service.start()``.
    """
    options = dict(citizen_reader_pattern=citizen_reader_pattern, psam_reader_pattern=psam_reader_pattern,
                   poll_timeout_ms=poll_timeout_ms, command_timeout_s=command_timeout_s,
                   initial_pin=initial_pin, apdu_trace=apdu_trace, pin_algorithm=pin_algorithm,
                   max_pin_tries=max_pin_tries)
    if backend == "pcsc":
        from drivers.smartcard.readers import PcscBackend
        return SmartcardService(PcscBackend(), **options), None  # type: ignore[arg-type]
    if backend == "virtual":
        readers = InProcessReaders()
        if insert_demo_psam:
            readers.insert(VirtualPsam(pin_algorithm=pin_algorithm), PSAM_SLOT)
        return SmartcardService(readers, **options), VirtualCards(readers)  # type: ignore[arg-type]
    raise ValueError(f"unknown smart-card backend {backend!r}; expected 'pcsc' or 'virtual'")
