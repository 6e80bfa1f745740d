"""Helpers for the flow tests (imported by name: a module called "conftest" is ambiguous across areas).

Flow tests: every service start to result through the REAL drivers against their simulators.

One demo kiosk per module (kiosk.app.build_kiosk): the in-process virtual card and PSAM, the PIN pad
simulator on a pseudo-terminal, a still-image camera whose picture the test swaps, the real face
models and the embedded backend (its dev SMS outbox is the citizen's phone). Flows are driven by
kiosk.flows.scripted.ScriptedPresenter typing on the pad simulator. Nothing here stands in for a
device, the store or the backend.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from waiting import wait_until as wait_until  # re-exported: the flow and UI tests import it from here

from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard, sample_holder
from kiosk.flows.base import CancelToken, FlowRunner
from kiosk.flows.common import FlowOutcome
from kiosk.flows.deps import FlowDeps
from kiosk.flows.registry import start_service
from kiosk.flows.retiree import complete_id_number
from kiosk.flows.scripted import ScriptedPresenter, simulator_typist

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("KIOSK_SHARED_DIR", ROOT.parent / "shared")).resolve()
FACES = SHARED / "testdata" / "faces"
MODELS = ROOT / "var" / "models"
LIVE = "silentface/image_T1.jpg"
PRINTED_PHOTO = "silentface/image_F1.jpg"      # a printed-photo attack: must be refused
SCREEN_REPLAY = "silentface/image_F2.jpg"      # the same person replayed on a screen: SPOOF
OTHER_PERSON = "face_recognition/obama.jpg"
GOOD_PIN = "258036"


def face_file(rel: str) -> Path:
    path = FACES / rel
    if not path.is_file():
        pytest.fail(f"missing test image {path}: the flow tests need ../shared/testdata/faces "
                    "(or set KIOSK_SHARED_DIR)", pytrace=False)
    return path


_serial = itertools.count(1)


def new_id_number(birth: str = "19550315") -> str:
    """A valid 18-character ID number (GB 11643 check character) never used before in this run,
    ending in a digit (so the ID-suffix PIN rule applies)."""
    while True:
        n = next(_serial)
        number = complete_id_number(f"440106{birth}{n % 1000:03d}")
        assert number is not None
        if number[-1] != "X":
            return number


def new_phone() -> str:
    return f"139{time.time_ns() % 10**8:08d}"


@dataclass
class Kiosk:
    services: Any
    tmp: Path
    templates: dict[str, str] = field(default_factory=dict)

    # -- devices ---------------------------------------------------------------------------------
    @property
    def deps(self) -> FlowDeps:
        return FlowDeps.from_services(self.services)

    def camera_shows(self, rel: str) -> None:
        """Swap the still picture the camera opens at its next start."""
        target = self.tmp / "camera.jpg"
        staging = self.tmp / "camera.tmp.jpg"
        shutil.copyfile(face_file(rel), staging)
        os.replace(staging, target)

    def insert(self, id_number: str, name: str, pin: str = GOOD_PIN, max_tries: int = 3) -> VirtualSsCard:
        holder = sample_holder(name=name, ssn=id_number)
        card = self.services.virtual_cards.insert_card(CardConfig(pin=pin, max_tries=max_tries, holder=holder))
        # The reader reports the card a moment later (its monitor polls); a flow started before that
        # asks "with or without the card?" (seen once in CI under load).
        wait_until(lambda: self._card_seen(), timeout=10, what="the reader to report the inserted card")
        return card

    def _card_seen(self) -> bool:
        info = self.services.card.reader_info().wait(5)
        return bool(info.ok and info.result is not None and info.result.card_present)

    def remove_card(self) -> None:
        self.services.virtual_cards.remove_card()

    # -- backend ---------------------------------------------------------------------------------
    @property
    def backend(self) -> Any:
        return self.services.embedded_backend

    def seed(self, **person: Any) -> None:
        from backend.seed import apply_seed

        apply_seed(self.backend.services.engine, {"persons": [person]})

    def seed_bank_account(self, **account: Any) -> None:
        from backend.seed import apply_seed

        apply_seed(self.backend.services.engine, {"bank_accounts": [account]})

    def person(self, name: str, *, phone: str | None = "new", template: str | None = "T1", **extra: Any) -> tuple[str, str | None]:
        """Seed a new person; returns (id_number, phone)."""
        id_number = new_id_number()
        phone = new_phone() if phone == "new" else phone
        self.seed(id_number=id_number, name=name, phone=phone,
                  face_template=self.templates[template] if template else None, **extra)
        return id_number, phone

    def sms_messages(self, phone: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.backend.url}/v1/dev/sms-outbox", params={"phone": phone}, timeout=5,
                      headers={"Authorization": f"Bearer {self.backend.operator_token}"})
        assert r.status_code == 200, r.text
        return r.json()["messages"]

    def latest_code(self, phone: str) -> Callable[[], str]:
        """For a scripted entry: the newest code texted to ``phone`` at the moment it is typed."""

        def code() -> str:
            codes = [found for m in self.sms_messages(phone)
                     for found in re.findall(r"(?<!\d)\d{6}(?!\d)", m["text"])]
            assert codes, f"no SMS with a 6-digit code was sent to {phone}"
            return codes[-1]

        return code

    def expire_sms_codes(self, phone: str) -> None:
        """Make every code for ``phone`` expired, in the backend's own table (as 5 minutes passing would)."""
        import sqlalchemy as sa

        from backend.db import sms_requests

        with self.backend.services.engine.begin() as conn:
            conn.execute(sa.update(sms_requests).where(sms_requests.c.phone == phone)
                         .values(expires_at=self.backend.services.clock().replace(year=2020)))

    # -- records ---------------------------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        with self.services.sync.store.read() as conn:
            rows = conn.execute("SELECT envelope FROM outbox ORDER BY n").fetchall()
        return [json.loads(row[0]) for row in rows]

    def records_of(self, outcome: FlowOutcome | None = None, ids: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        wanted = set(outcome.record_ids if outcome is not None else ids)
        return [r for r in self.records() if r["id"] in wanted]

    # -- running a service -----------------------------------------------------------------------
    def presenter(self, **script: Any) -> ScriptedPresenter:
        return ScriptedPresenter(typist=simulator_typist(self.services.pinpad_simulator), **script)

    def run(self, key: str, presenter: ScriptedPresenter, deps: FlowDeps | None = None, timeout_s: float = 90.0,
            **options: Any) -> FlowOutcome | None:
        """Run service ``key`` on a FlowRunner; returns its outcome (None: the visit ended under it)."""
        runner = FlowRunner()
        done = threading.Event()
        result: dict[str, Any] = {}

        def on_done(outcome: FlowOutcome | None, error: BaseException | None) -> None:
            result.update(outcome=outcome, error=error)
            done.set()

        token: CancelToken = start_service(runner, key, deps or self.deps, presenter, on_done, **options)
        presenter.token = token
        if not done.wait(timeout_s):
            runner.cancel("test timeout")
            pytest.fail(f"service {key} did not finish in {timeout_s}s; shown: {presenter.shown[-5:]}")
        if result["error"] is not None:
            raise result["error"]
        result["reason"] = token.reason
        self.last_cancel_reason = token.reason
        return result["outcome"]

    last_cancel_reason: str = ""


def build(tmp: Path, **site: dict[str, Any]) -> Any:
    from kiosk.app import build_kiosk

    config = site_config(tmp, **site)
    services = build_kiosk(config)
    if services.problems:
        services.close()
        pytest.fail(f"the demo kiosk did not build: {services.problems}")
    return services


def site_config(tmp: Path, **site: dict[str, Any]) -> Any:
    """The demo profile with the tests' site file (written to ``tmp``), loaded as the kiosk would."""
    from kiosk.config import load_config

    if not (MODELS / "manifest.json").is_file():
        pytest.fail(f"face models not installed in {MODELS}: run `bash scripts/setup.sh` "
                    "(it runs `kiosk models install`)", pytrace=False)
    shutil.copyfile(face_file(LIVE), tmp / "camera.jpg")
    tables: dict[str, dict[str, Any]] = {
        "kiosk": {"data_dir": str(tmp / "data")},
        "ui": {"idle_timeout_s": 20, "countdown_s": 5},
        "camera": {"backend": "still", "source": str(tmp / "camera.jpg")},
        # move_back_above 0: SCREEN_REPLAY's face fills 45.1% of its frame, which the shipped kiosk
        # would first ask to move back (docs/face.md, "Two-tier decision"); here liveness must judge it
        "face": {"models_dir": str(MODELS), "active_challenge": False, "decision_timeout_s": 6.0,
                 "move_back_above": 0.0},
        "pinpad": {"pin_timeout_s": 15},
        "backend": {"url": "http://127.0.0.1:0", "timeout_s": 3.0, "idle_poll_s": 0.5,
                    "backoff_initial_s": 0.1, "backoff_max_s": 0.5},
    }
    for name, values in site.items():
        tables.setdefault(name, {}).update(values)
    text = "".join(f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
                   for name, values in tables.items())
    (tmp / "site.toml").write_text(text)
    return load_config("demo", site_file=tmp / "site.toml", environ={})


def kiosk_with_templates(tmp: Path, **overrides: Any) -> Kiosk:
    """A demo kiosk (see :func:`build`) with the face templates of the live picture ("T1") and of
    another person ("other") computed by its own face service, for seeding persons."""
    import base64

    import cv2

    services = build(tmp, **overrides)
    k = Kiosk(services, tmp)
    try:
        for key, rel in {"T1": LIVE, "other": OTHER_PERSON}.items():
            done = services.face.template_from_image(cv2.imread(str(face_file(rel)))).wait(20)
            assert done.ok and done.result is not None, f"no template from {rel}: {done}"
            k.templates[key] = base64.b64encode(done.result.to_bytes()).decode()
            done.result.wipe()
    except BaseException:
        services.close()
        raise
    return k
