"""Smart-card figures through the real stack: pyscard -> pcscd -> vpcd -> virtual card (test keys).

Prints (1) the time from pcscd reporting the card present (the watcher's CardInserted event) to
holder data available, for 2nd- and 3rd-generation cards (target: under 300 ms; vpcd's own ~400 ms
polling before pcscd sees an insertion is NOT included, as on a real CCID reader it does not
exist), (2) the APDUs each flow sends to the card and to the PSAM, (3) one APDU's round trip.

Needs pcscd and vsmartcard-vpcd (scripts/setup.sh) and no other pcscd running; starts its own.
Run: .venv/bin/python bench/smartcard_read.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.api import DeviceEvent
from drivers.smartcard.api import CardInserted, CardRemoved
from drivers.smartcard.factory import make_card_service
from drivers.smartcard.service import SmartcardService
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard
from drivers.smartcard.virtual.pcscd import CITIZEN, PSAM, PcscdStack, wait_reader
from drivers.smartcard.virtual.psam import VirtualPsam


def time_to_holder_data(stack: PcscdStack, service: SmartcardService, config: CardConfig,
                        rounds: int) -> list[float]:
    """ms from the CardInserted event (pcscd said present) to read_card's completion."""
    figures: list[float] = []
    for _ in range(rounds):
        done = threading.Event()
        removed = threading.Event()
        result: dict[str, object] = {}

        def on_event(event: DeviceEvent, result: dict[str, object] = result, done: threading.Event = done,
                     removed: threading.Event = removed) -> None:
            if isinstance(event, CardInserted) and "at" not in result:
                result["at"] = event.at
                handle = service.read_card()      # submitted from the event, as a flow would
                handle.add_done_callback(lambda c: (result.update(end=time.monotonic(), ok=c.ok), done.set()))
            elif isinstance(event, CardRemoved):
                removed.set()

        unsubscribe = service.subscribe(on_event)
        stack.citizen.insert(VirtualSsCard(config))
        if not done.wait(10):
            raise SystemExit("no card read within 10 s")
        if not result["ok"]:
            raise SystemExit("the card read failed")
        figures.append((result["end"] - result["at"]) * 1000)  # type: ignore[operator]
        stack.citizen.remove()
        removed.wait(5)
        unsubscribe()
    return figures


def apdus_per_flow(stack: PcscdStack, service: SmartcardService, psam: VirtualPsam) -> list[tuple[str, int, int]]:
    rows = []
    for generation in (2, 3):
        card = VirtualSsCard(CardConfig(generation=generation, pin="246810"))
        inserted = threading.Event()
        unsubscribe = service.subscribe(lambda e, ev=inserted: ev.set() if isinstance(e, CardInserted) else None)
        stack.citizen.insert(card)
        inserted.wait(5)
        unsubscribe()
        flows = [(f"read card (gen {generation})", service.read_card)]
        if generation == 3:
            flows += [
                ("verify PIN", lambda: service.verify_pin(bytearray(b"246810"))),
                ("pin tries left", service.pin_tries_left),
                ("change PIN", lambda: service.change_pin(bytearray(b"246810"), bytearray(b"135791"))),
                ("reset PIN (reload)", lambda: service.reload_pin(bytearray(b"975312"))),
                ("unblock PIN", service.unblock_pin),
            ]
        for name, start in flows:
            card_before, psam_before = card.apdu_count, psam.apdu_count
            completion = start().wait(10)
            if not completion.ok:
                raise SystemExit(f"{name} failed: {completion}")
            rows.append((name, card.apdu_count - card_before, psam.apdu_count - psam_before))
        stack.citizen.remove()
        wait_reader(CITIZEN, present=False)
    return rows


def apdu_round_trip(stack: PcscdStack) -> float:
    from drivers.smartcard.readers import PcscBackend
    stack.citizen.insert(VirtualSsCard(CardConfig(generation=2)))
    wait_reader(CITIZEN, present=True)
    backend = PcscBackend()
    backend.open()
    conn = backend.connect(CITIZEN)
    times = []
    for _ in range(50):
        started = time.perf_counter()
        conn.transmit(bytes.fromhex("0084000008"))
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    backend.close()
    stack.citizen.remove()
    wait_reader(CITIZEN, present=False)
    return statistics.median(times)


def describe(figures: list[float]) -> str:
    ordered = sorted(figures)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (f"median {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   max {ordered[-1]:6.1f} ms   "
            f"(n={len(ordered)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = PcscdStack(Path(tmp), apdu_log=False)
        stack.start()
        try:
            psam = VirtualPsam()
            stack.psam.insert(psam)
            wait_reader(PSAM, present=True)
            service, _ = make_card_service(backend="pcsc")
            service.start()
            try:
                print("== one APDU through pyscard -> pcscd -> vpcd (GET CHALLENGE)")
                print(f"round trip median {apdu_round_trip(stack):.2f} ms")
                print("== pcscd reports the card present -> holder data available (target < 300 ms)")
                for label, config in (("2nd generation, T=1 style", CardConfig(generation=2)),
                                      ("3rd generation + PSAM external auth", CardConfig(generation=3)),
                                      ("3rd generation, T=0 61xx answers", CardConfig(generation=3, t0_get_response=True))):
                    print(f"{label:38s} {describe(time_to_holder_data(stack, service, config, args.rounds))}")
                print("== APDUs per flow (card / PSAM)")
                for name, card_n, psam_n in apdus_per_flow(stack, service, psam):
                    print(f"{name:22s} card {card_n:2d}   PSAM {psam_n:2d}")
            finally:
                service.stop()
        finally:
            stack.close()


if __name__ == "__main__":
    main()
