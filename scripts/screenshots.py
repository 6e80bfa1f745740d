#!/usr/bin/env python3
"""Screenshots of every shell screen on a real X server: starts its own Xvfb (1920x1080) on a free
display, runs the kiosk window fullscreen through the xcb platform plugin, grabs the X screen.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Prints the start-up time (QApplication to first exposed fullscreen frame) as a figure.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb picks a free display itself (-displayfd) and writes its number once it accepts clients."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("Xvfb is missing: install the Debian package xvfb (scripts/setup.sh)")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        number = reader.readline().strip()
    if not number.isdigit():
        proc.kill()
        raise SystemExit("Xvfb did not start (no display number reported)")
    return proc, f":{number}"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def capture(out: Path) -> None:
    started = time.monotonic()
    from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

    app = QApplication([sys.argv[0]])
    from kiosk import i18n
    from kiosk.config import load_config
    from kiosk.session import SessionCore
    from ui.main import create_shell

    base = load_config("demo")
    config = dataclasses.replace(base, ui=dataclasses.replace(base.ui, voice_engine="none", hide_cursor=True))
    clock = Clock()
    core = SessionCore(config.ui.idle_timeout_s, config.ui.countdown_s, clock=clock)

    class DemoFlow:
        """Shows the step layout the way the issue-6 flows will drive it (no pretend service)."""

        def __init__(self, host) -> None:
            self.host = host

        def start(self) -> None:
            body = QWidget()
            text = QLabel()
            text.setText("●  ●  ●  ○  ○  ○")
            text.setStyleSheet("font-size: 72px; letter-spacing: 12px;")
            QVBoxLayout(body).addWidget(text)
            self.host.enter_step("new_pin", "Change PIN", "Set a new six-digit PIN", 2, 4, body=body)

        def stop(self) -> None:
            pass

    window = create_shell(config, core, flows={"retiree_certification": DemoFlow})
    window.show_kiosk(fullscreen=True, hide_cursor=True, width=1920, height=1080)
    while not (window.windowHandle() and window.windowHandle().isExposed()):
        app.processEvents()
    app.processEvents()
    print(f"start-up: {(time.monotonic() - started) * 1000:.0f} ms from QApplication to the first exposed "
          f"fullscreen frame (xcb on Xvfb)")

    def settle() -> None:
        end = time.monotonic() + 0.4
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def shot(name: str) -> None:
        settle()
        screen = app.primaryScreen()
        image = screen.grabWindow(0)          # the whole X screen: what a citizen would see
        path = out / f"{name}.png"
        image.save(str(path))
        print(f"  {path.relative_to(ROOT)}  {image.width()}x{image.height()}")

    out.mkdir(parents=True, exist_ok=True)
    shot("01-attract")
    core.start_visit("touch")
    shot("02-home")
    window.start_service("retiree_certification")
    shot("03-step")
    # an issue-6 style device failure (kiosk/messages/pinpad.py wording)
    window.step.show_error("The PIN pad is not responding.",
                           "Please wait a moment and try again, or go to the counter.",
                           [window.host.retry_action(lambda: None), window.host.home_action()])
    shot("04-step-error")
    window.go_home()
    window.start_service("card_status")
    shot("05-error-not-available")
    window.host.show_result("Done", "Please note", details=[])
    window.go_home()
    clock.now += config.ui.idle_timeout_s + 2
    core.tick()
    shot("06-countdown")
    core.touch()
    i18n.set_language("en")
    shot("07-home-english")
    window.start_service("retiree_certification")
    shot("08-step-english")
    i18n.set_language("zh_CN")
    window.go_home()
    window.operator.open_dialog()
    shot("09-operator-dialog")
    if window.operator.dialog is not None:
        window.operator.dialog.reject()
    window.shutdown()
    capture_services(app, out, shot)


def capture_services(app, out: Path, shot) -> None:
    """The five services on the real demo kiosk (kiosk.app.build_kiosk: virtual card, PIN pad
    simulator, still-image camera with the real face models, embedded backend), driven like a citizen."""
    import base64
    import json
    import re
    import tempfile

    import cv2
    import httpx

    from backend.seed import apply_seed
    from drivers.smartcard.virtual.card import CardConfig, sample_holder
    from kiosk.app import build_kiosk
    from kiosk.config import load_config
    from kiosk.flows.retiree import complete_id_number
    from ui.demo import attach_demo
    from ui.flows import flow_factories
    from ui.main import bridge_for_devices, create_shell

    shared = Path(os.environ.get("KIOSK_SHARED_DIR", ROOT.parent / "shared")).resolve()
    live = shared / "testdata" / "faces" / "silentface" / "image_T1.jpg"
    if not live.is_file():
        raise SystemExit(f"missing {live}: the service screenshots need ../shared/testdata/faces")
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-shots-"))
    camera_file = tmp / "camera.jpg"
    picture = cv2.imread(str(live))
    cv2.imwrite(str(camera_file), picture)
    far = cv2.resize(picture, None, fx=0.3, fy=0.3)          # a face too far away: the kiosk says so
    canvas = cv2.resize(picture, None, fx=1.0, fy=1.0) * 0 + 200
    y, x = (canvas.shape[0] - far.shape[0]) // 2, (canvas.shape[1] - far.shape[1]) // 2
    canvas[y:y + far.shape[0], x:x + far.shape[1]] = far
    tables = {
        "kiosk": {"data_dir": str(tmp / "data")},
        "ui": {"voice_engine": "none", "hide_cursor": True, "idle_timeout_s": 600},
        "camera": {"backend": "still", "source": str(camera_file)},
        "face": {"models_dir": str(ROOT / "var" / "models"), "active_challenge": False, "decision_timeout_s": 8.0},
        "backend": {"url": "http://127.0.0.1:0", "idle_poll_s": 0.5},
    }
    (tmp / "site.toml").write_text("".join(f"[{n}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in t.items())
                                           for n, t in tables.items()))
    config = load_config("demo", site_file=tmp / "site.toml", environ={})
    started = time.monotonic()
    services = build_kiosk(config)
    print(f"build_kiosk (demo): {(time.monotonic() - started) * 1000:.0f} ms; problems: {services.problems}")
    try:
        template = services.face.template_from_image(picture).wait(20)
        assert template.ok, template
        t1 = base64.b64encode(template.result.to_bytes()).decode()
        backend = services.embedded_backend
        people = {"card": ("张建国", "440106195503150017"), "change": ("刘德明", "440106195503150025"),
                  "reset": ("陈淑芬", "440106195503150033"), "retiree": ("周桂兰", "440106195003150041"),
                  "bank": ("唐国平", "440106197503150059"), "ecard": ("林秀英", "440106195803150067")}
        persons = []
        for key, (name, number) in people.items():
            number = complete_id_number(number[:17])
            people[key] = (name, number)
            persons.append({"id_number": number, "name": name, "phone": f"1391234{len(persons):04d}",
                            "face_template": t1, "retired": key == "retiree"})
        apply_seed(backend.services.engine, {"persons": persons, "bank_accounts": [
            {"bank_code": "ICBC", "card_number": "6222020200998877665", "name": people["bank"][0],
             "id_number": people["bank"][1], "phone": persons[4]["phone"], "kind": "debit"}]})

        def latest_code(phone: str) -> str:
            r = httpx.get(f"{backend.url}/v1/dev/sms-outbox", params={"phone": phone}, timeout=5,
                          headers={"Authorization": f"Bearer {backend.operator_token}"})
            return re.findall(r"(?<!\d)\d{6}(?!\d)", r.json()["messages"][-1]["text"])[-1]

        bridge = bridge_for_devices(services.devices)
        window = create_shell(config, services.session, bridge=bridge, flows=flow_factories(services))
        panel, _opener = attach_demo(window, services)
        window.show_kiosk(fullscreen=True, hide_cursor=True, width=1920, height=1080)
        pad = services.pinpad_simulator
        from PySide6.QtWidgets import QPushButton

        from kiosk import i18n

        def until(predicate, what: str, timeout: float = 30.0) -> None:
            end = time.monotonic() + timeout
            while not predicate():
                if time.monotonic() > end:
                    raise SystemExit(f"screenshots: {what} not reached in {timeout}s")
                app.processEvents()
                time.sleep(0.01)

        def screen_has(text: str) -> bool:
            # Long numbers are shown grouped ("138 0013 8000"): compare without the group spaces.
            return any(w.isVisible() and (text in (shown := (w.text() if hasattr(w, "text") else ""))
                                          or (text.isdigit() and text in shown.replace(" ", "")))
                       for w in window.findChildren(QPushButton) + window.findChildren(__import__(
                           "PySide6.QtWidgets", fromlist=["QLabel"]).QLabel))

        def touch(text: str) -> None:
            until(lambda: any(b.isVisible() and b.isEnabled() and b.text() == text
                              for b in window.findChildren(QPushButton)), f"button {text!r}")
            next(b for b in window.findChildren(QPushButton)
                 if b.isVisible() and b.isEnabled() and b.text() == text).click()

        def typed(digits: str, mode: str = "pin", enter: bool = True) -> None:
            until(lambda: pad.entry_mode == mode, f"a {mode} entry on the pad")
            for d in digits:
                pad.press(d)
            if enter:
                pad.press("enter")

        def insert(key: str, **card) -> Any:
            name, number = people[key]
            return services.virtual_cards.insert_card(CardConfig(holder=sample_holder(name=name, ssn=number), **card))

        def leave() -> None:
            services.virtual_cards.remove_card()
            until(lambda: window.current_page == "attract", "the end of the visit")

        from kiosk.messages import flows as M

        tr = i18n._
        # 0. the first screen of the real demo kiosk: the card and, beside it, the e-card
        until(lambda: window.current_page == "attract" and window.attract.ecard_button.isVisible(),
              "the attract screen with the e-card button")
        shot("25-attract-ecard")
        # 1. card status
        insert("card", pin="147258")
        until(lambda: window.current_page == "home", "home")
        window.home.service_buttons["card_status"].click()
        typed("147", enter=False)
        until(lambda: screen_has("● ● ●"), "three dots")
        shot("10-card-status-pin")
        typed("258")
        until(lambda: screen_has("张*国"), "the card status result")
        shot("11-card-status-result")
        leave()
        # 2. PIN change with a weak PIN refused
        card = insert("change", pin="147258")
        until(lambda: window.current_page == "home", "home")
        window.home.service_buttons["pin_change"].click()
        typed("147258")
        typed("111111")                     # refused on its first entry
        until(lambda: window.step.showing_error, "the weak-PIN refusal")
        shot("12-pin-change-weak-pin")
        touch(tr("Try again"))
        typed("370914")
        typed("370914")
        until(lambda: screen_has(tr(M.PIN_CHANGED_TITLE)), "PIN changed")
        shot("13-pin-change-result")
        leave()
        # 3. PIN reset: choice, consent, face (too far), SMS code, result
        card = insert("reset", pin="147258")
        card.tries_left = 0
        until(lambda: window.current_page == "home", "home")
        window.home.service_buttons["pin_reset"].click()
        until(lambda: screen_has(tr(M.CHOICE_UNLOCK)), "reset or unlock")
        shot("14-pin-reset-choice")
        touch(tr(M.CHOICE_RESET))
        until(lambda: screen_has(tr(M.AGREE)), "the consent")
        shot("15-consent")
        cv2.imwrite(str(tmp / "far.jpg"), canvas)
        os.replace(tmp / "far.jpg", camera_file)
        touch(tr(M.AGREE))
        from kiosk.messages import face as F
        from models.quality import QualityReason
        until(lambda: screen_has(tr(F.QUALITY[QualityReason.TOO_FAR])) and getattr(window.step.body, "frames_shown", 0) > 0,
              "the face prompt")
        shot("16-face-prompt")
        cv2.imwrite(str(tmp / "live.jpg"), picture)
        os.replace(tmp / "live.jpg", camera_file)
        until(lambda: window.step.showing_error, "the face retry", 30)
        touch(tr("Try again"))
        phone = persons[2]["phone"]
        until(lambda: screen_has(tr(M.SMS_TITLE)) and pad.entry_mode == "plain", "the SMS entry", 30)
        typed(latest_code(phone)[:3], mode="plain", enter=False)
        until(lambda: screen_has(latest_code(phone)[:3]), "the typed digits")
        shot("17-sms-code")
        pad.press("clear")
        typed(latest_code(phone), mode="plain")
        typed("370914")
        typed("370914")
        until(lambda: screen_has(tr(M.PIN_RESET_TITLE)), "PIN reset", 30)
        shot("18-pin-reset-result")
        leave()
        # 4. real-name registration: the bank list with the disabled bank, bank card, result
        insert("bank", pin="147258")
        until(lambda: window.current_page == "home", "home")
        window.home.service_buttons["real_name"].click()
        until(lambda: screen_has("广州银行"), "the bank list")
        shot("19-bank-list")
        touch("中国工商银行")
        touch(tr(M.AGREE))
        until(lambda: screen_has(tr(M.BANK_CARD_TITLE)) and pad.entry_mode == "plain", "the bank card entry")
        typed("6222020200998877665", mode="plain")
        until(lambda: screen_has(tr(M.PHONE_TITLE)) and pad.entry_mode == "plain", "the phone entry")
        typed(persons[4]["phone"][:7], mode="plain", enter=False)
        until(lambda: screen_has(persons[4]["phone"][:7]), "the phone digits")
        shot("20-phone-entry")
        typed(persons[4]["phone"][7:], mode="plain")
        until(lambda: screen_has(tr(M.SMS_TITLE)) and pad.entry_mode == "plain", "the SMS entry", 30)
        typed(latest_code(persons[4]["phone"]), mode="plain")
        until(lambda: screen_has(tr(M.REGISTERED_TITLE)), "registered", 30)
        shot("21-real-name-result")
        leave()
        # 5. retiree certification without the card
        window.attract.touched.emit()
        until(lambda: window.current_page == "home", "home")
        window.home.service_buttons["retiree_certification"].click()
        touch(tr(M.WITHOUT_CARD))
        typed(people["retiree"][1], mode="plain")
        touch(tr(M.YES_THIS_IS_ME))
        touch(tr(M.AGREE))
        until(lambda: screen_has(tr(M.CERTIFIED_TITLE)), "certified", 30)
        shot("22-retiree-result")
        window.go_home()
        panel.show_panel()
        shot("23-demo-panel")
        panel.hide_panel()
        from ui.demo import status_lines

        window.operator.status = lambda: status_lines(services)
        window.operator.open_dialog()
        shot("24-operator-status")
        window.operator.dialog.reject()
        services.session.end_visit(__import__("kiosk.session", fromlist=["EndReason"]).EndReason.FINISHED)
        until(lambda: window.current_page == "attract", "the attract screen")
        # 6. the e-card: sign in with the phone's code, then its own PIN (issue 11)
        capture_ecard(services, window, people["ecard"][1], camera_file, picture, until, screen_has, touch, typed,
                      shot)
        window.shutdown()
        bridge.detach_all()
    finally:
        services.close()


def capture_ecard(services, window, id_number: str, camera_file: Path, face, until, screen_has, touch, typed,
                  shot) -> None:
    """The e-card sign-in step (the phone picture), then the e-card PIN: choice, new PIN, result,
    a wrong old PIN with the tries left."""
    import cv2
    import httpx

    from drivers.codescan.phone_render import PhoneShot, render
    from kiosk import i18n
    from kiosk.messages import ecard as E
    from kiosk.messages import ecard_pin as EP
    from ui.widgets.phone_hint import PhoneHint

    tr = i18n._
    backend = services.embedded_backend
    # The scan step while the camera sees no code yet: the drawn phone shows how to hold it.
    window.attract.ecard_button.click()
    until(lambda: isinstance(window.step.body, PhoneHint) and window.step.body.isVisible(), "the phone picture")
    shot("26-ecard-scan")
    window.step.cancel_button.click()
    if services.session.visit is not None:
        services.session.end_visit(__import__("kiosk.session", fromlist=["EndReason"]).EndReason.FINISHED)
    until(lambda: window.current_page == "attract", "the attract screen after cancel")
    r = httpx.post(f"{backend.url}/v1/dev/ecard/codes", json={"id_number": id_number}, timeout=10,
                   headers={"Authorization": f"Bearer {backend.operator_token}"})
    frame = render(r.json()["code"], PhoneShot(code_fraction=0.25, yaw_deg=12, glare=0.3, moire=0.4))
    cv2.imwrite(str(camera_file.with_suffix(".tmp.png")), frame)
    os.replace(camera_file.with_suffix(".tmp.png"), camera_file)
    window.attract.ecard_button.click()
    until(lambda: screen_has(tr(E.SIGNED_IN_TITLE)), "signed in with the e-card", 30)
    shot("27-ecard-signed-in")
    cv2.imwrite(str(camera_file.with_suffix(".tmp.jpg")), face)
    os.replace(camera_file.with_suffix(".tmp.jpg"), camera_file)
    until(lambda: window.result.home_button.isVisible(), "back to home")
    window.result.home_button.click()
    until(lambda: window.current_page == "home", "home")
    window.home.service_buttons["ecard_pin"].click()
    until(lambda: screen_has(tr(EP.CHOICE_SET)), "the e-card PIN choice")
    shot("28-ecard-pin-choice")
    touch(tr(EP.CHOICE_SET))
    typed("807", enter=False)
    until(lambda: screen_has("● ● ●") and screen_has(tr(EP.NEW_TITLE)), "three dots")
    shot("29-ecard-pin-new")
    typed("162")
    typed("807162")
    until(lambda: screen_has(tr(EP.SET_TITLE)), "the e-card PIN set", 30)
    shot("31-ecard-pin-set")
    window.result.home_button.click()
    until(lambda: window.current_page == "home", "home")
    window.home.service_buttons["ecard_pin"].click()
    touch(tr(EP.CHOICE_CHANGE))
    typed("593048")
    typed("640395")
    typed("640395")
    until(lambda: window.step.showing_error, "the wrong old PIN", 30)
    shot("32-ecard-pin-wrong-tries")
    services.session.end_visit(__import__("kiosk.session", fromlist=["EndReason"]).EndReason.FINISHED)
    until(lambda: window.current_page == "attract", "the end of the e-card visit")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    if os.environ.get("KIOSK_SCREENSHOTS_CHILD") == "1":
        capture(args.out.resolve())
        return 0
    xvfb, display = start_xvfb()
    try:
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "KIOSK_SCREENSHOTS_CHILD": "1"}
        return subprocess.run([sys.executable, __file__, "--out", str(args.out)], env=env, check=False,
                              timeout=300).returncode
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
