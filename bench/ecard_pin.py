"""E-card PIN latency: what the kiosk waits for around the citizen's typing.

The embedded backend (the demo's platform, on SQLite) with a pad key registered as in the ceremony,
the real PIN pad driver over its pty simulator holding the same master key. Each trial is a change
(old PIN + new PIN twice, alternating two PINs): open a platform session and load its working key
into the pad (KCV checked), the three entries (the simulator types them at once), then the
submission (the platform's one decrypting function, the weak-PIN policy, Argon2id, the alert).

Prints medians and p90 per stage.

    .venv/bin/python bench/ecard_pin.py [--trials 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from backend.embedded import EmbeddedBackend
from drivers.pinpad.factory import create_pinpad
from kiosk.backend_client import BackendClient, EcardPinDone, EcardPinSession
from kiosk.ecard.pad import KEY_SLOTS, demo_ceremony
from kiosk.signing import create_key

PERSON = "440106195203154324"
PINS = ("807162", "593048")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def typed(pad, session: EcardPinSession, pin: str) -> bytes:  # type: ignore[no-untyped-def]
    handle = pad.service.start_pin_entry(session.pan, key_name="ecard", timeout_s=10)
    while pad.simulator.entry_mode != "pin":
        time.sleep(0.001)
    pad.simulator.type_keys(pin)
    pad.simulator.press("enter")
    done = handle.wait(10)
    assert done.ok, done
    return done.result.block


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBackend(data_dir=Path(tmp) / "backend") as backend:
        backend.start()
        operator = {"Authorization": f"Bearer {backend.operator_token}"}
        httpx.post(f"{backend.url}/v1/operator/seed", headers=operator, timeout=10, json={
            "persons": [{"id_number": PERSON, "name": "张建明", "phone": "13800138000"}]}).raise_for_status()
        httpx.post(f"{backend.url}/v1/dev/ecard/codes", headers=operator, timeout=10,
                   json={"id_number": PERSON}).raise_for_status()          # the citizen's e-card
        signer = create_key(Path(tmp) / "kiosk.key")
        client = BackendClient(backend.url, "bench-kiosk", signer, timeout_s=10.0)
        client.enroll(signer.public_key_b64, backend.enrollment_token("bench-kiosk"))
        pad = create_pinpad(backend="simulator", key_slots=KEY_SLOTS)
        assert pad.service.wait_online(5), pad.service.status_detail
        assert demo_ceremony(pad.simulator, backend.url, backend.operator_token, "bench-kiosk", "sm4") is None
        opened_ms: list[float] = []
        entry_ms: list[float] = []
        submit_ms: list[float] = []

        def one(purpose: str, old: str | None, new: str) -> None:
            t0 = time.perf_counter()
            session = client.ecard_pin_session(PERSON, purpose)
            assert isinstance(session, EcardPinSession), session
            loaded = pad.service.load_work_key("ecard", session.wrapped_key, session.kcv).wait(10)
            assert loaded.ok, loaded
            t1 = time.perf_counter()
            blocks = {"old": typed(pad, session, old)} if old is not None else {}
            blocks["new"] = typed(pad, session, new)
            blocks["repeat"] = typed(pad, session, new)
            t2 = time.perf_counter()
            done = client.ecard_pin_submit(session.session_id, blocks)
            assert isinstance(done, EcardPinDone), done
            t3 = time.perf_counter()
            opened_ms.append((t1 - t0) * 1000)
            entry_ms.append((t2 - t1) * 1000)
            submit_ms.append((t3 - t2) * 1000)

        one("set", None, PINS[0])
        for trial in range(args.trials):
            one("change", PINS[trial % 2], PINS[(trial + 1) % 2])
        pad.close()
        client.close()
    for name, values in (("session + key into pad", opened_ms), ("3 entries on the pad", entry_ms),
                         ("submit (decrypt, policy, Argon2id, alert)", submit_ms)):
        print(f"{name:42s} median {statistics.median(values):7.1f} ms   p90 {pct(values, 0.9):7.1f} ms")
    print(f"trials {len(submit_ms)} (1 set + {args.trials} changes)")


if __name__ == "__main__":
    main()
