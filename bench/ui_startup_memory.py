"""Start-up to the attract screen, and resident memory over many visits, on the demo kiosk.

    .venv/bin/python bench/ui_startup_memory.py [--starts 3] [--visits 1000] [--every 100]
        [--face-checks 5] [--eager] [--compare]

Start-up: a fresh process per run, from the interpreter's start to the first turn of the event
loop with the attract screen shown (``ui.main.run`` on the demo profile, offscreen unless a display
is set), and on to "kiosk services ready" (the parts start behind the shown screen). Memory: one demo kiosk (real drivers against their simulators, the real shell) through
``--visits`` visits: card in, card-status service, the PIN step, Cancel, card out; RSS printed
every ``--every`` visits. Then ``--face-checks`` face checks (the face service on the demo
camera, as a face step runs it): RSS with the face models loaded, and after they are released.
The face models load on the first face check (``[face] lazy_models``, models/lazy.py); ``--eager``
loads them at start as before issue 19; ``--compare`` runs the memory part both ways (child
processes) and prints before/after. Targets (issue 19): start-up < 2 s, RSS < 350 MB after 1,000
visits. Prints figures only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import os, sys, time
t0 = float(os.environ["BENCH_T0"])
sys.path.insert(0, os.environ["BENCH_ROOT"])
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([sys.argv[0]])
import logging
class _Ready(logging.Handler):
    def emit(self, record):
        if record.getMessage() == "kiosk services ready":
            print(f"SERVICES {time.time() - t0:.3f}", flush=True)
            app.exit(0)
def ready():
    print(f"STARTUP {time.time() - t0:.3f}", flush=True)
    logging.getLogger("ui.main").addHandler(_Ready())
QTimer.singleShot(0, ready)
import argparse
from kiosk.config import load_config
from ui.main import run
config = load_config("demo", environ={"KIOSK__KIOSK__DATA_DIR": os.environ["BENCH_DATA"]})
run(config, argparse.Namespace(windowed=True))
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_startup(starts: int) -> None:
    env = dict(os.environ, BENCH_ROOT=str(ROOT))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    times: list[float] = []
    ready: list[float] = []
    for _ in range(starts):
        with tempfile.TemporaryDirectory() as data:
            env["BENCH_DATA"] = data
            env["BENCH_T0"] = repr(time.time())
            out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                                 timeout=120, cwd=ROOT)
        line = next((x for x in out.stdout.splitlines() if x.startswith("STARTUP")), None)
        done = next((x for x in out.stdout.splitlines() if x.startswith("SERVICES")), None)
        if line is None or done is None:
            print(f"start-up run failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
            return
        times.append(float(line.split()[1]))
        ready.append(float(done.split()[1]))
    for what, values in (("start-up to the attract screen", times), ("every part started (services ready)", ready)):
        values.sort()
        print(f"{what} (demo profile, {starts} runs): "
              f"median {values[len(values) // 2]:.2f} s, best {values[0]:.2f} s, worst {values[-1]:.2f} s")


class _Discard:
    """The voice's audio sink without a sound card: renders everything, keeps nothing (a recording
    sink would grow with every prompt, which the real ALSA sink does not)."""

    def play(self, utterance) -> None:
        pass

    def stop(self) -> None:
        pass


def face_checks(services, count: int) -> None:
    """``count`` face checks as a face step runs them (still demo camera, challenge off): RSS with
    the models loaded, then after they are released (a lazy pipeline only)."""
    import cv2

    from drivers.camera.api import CameraConsent
    from kiosk.config import resolve_path
    from models.policy import FacePolicy

    image = cv2.imread(str(resolve_path(services.config.camera.source)))
    done = services.face.template_from_image(image).wait(30)
    if not done.ok or done.result is None:
        print(f"face checks skipped: no template from the demo picture ({done.code})")
        return
    reference = done.result
    consent = CameraConsent("bench", accepted=True)
    policy = FacePolicy(active_challenge=False, decision_timeout_s=15.0)
    pipeline = services.face.pipeline
    outcomes: list[str] = []
    for _ in range(count):
        services.camera.start(consent)
        started = time.monotonic()
        try:
            answer = services.face.verify(reference, policy, consent=consent,
                                          attempts=policy.new_attempts()).wait(30)
        finally:
            services.camera.stop()
        outcomes.append(f"{answer.result.outcome.value if answer.result else answer.code.value} "
                        f"{time.monotonic() - started:.2f} s")
    reference.wipe()
    print(f"RSS after {count} face checks: {rss_mb():.0f} MB (models loaded {getattr(pipeline, 'loads', 1)}x; "
          f"each check: {', '.join(outcomes)})")
    if hasattr(pipeline, "release"):
        from models.lazy import TRIM_AFTER_S

        time.sleep(2 * TRIM_AFTER_S + 1)          # the idle check runs every TRIM_AFTER_S
        print(f"RSS {2 * TRIM_AFTER_S + 1:.0f} s after the last face check (models kept, heap trimmed): "
              f"{rss_mb():.0f} MB")
        pipeline.release()
        print(f"RSS after the face models were released (idle): {rss_mb():.0f} MB")


def bench_memory(visits: int, every: int, face_count: int = 0, eager: bool = False) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    from drivers.api import DeviceStatus
    from drivers.smartcard.virtual.card import CardConfig, sample_holder
    from kiosk.app import build_kiosk
    from kiosk.config import load_config
    from ui.flows import flow_factories
    from ui.main import bridge_for_devices, create_shell

    def pump_until(predicate, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            app.processEvents()
            # deleteLater runs when control is back in the event loop; this loop stands in for it
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            if predicate():
                return True
            time.sleep(0.002)
        return False

    with tempfile.TemporaryDirectory() as data:
        environ = {"KIOSK__KIOSK__DATA_DIR": data}
        if eager:
            environ["KIOSK__FACE__LAZY_MODELS"] = "false"
        if os.environ.get("KIOSK__FACE__RUNTIME"):      # compare the face runtimes (issue 14)
            environ["KIOSK__FACE__RUNTIME"] = os.environ["KIOSK__FACE__RUNTIME"]
        config = load_config("demo", environ=environ)
        print(f"memory ({'face models loaded at start, as before issue 19' if eager else 'face models loaded on first use'}):")
        services = build_kiosk(config)
        bridge = bridge_for_devices(services.devices)
        window = create_shell(config, services.session, bridge=bridge, flows=flow_factories(services),
                              sink=_Discard())
        window.show_kiosk(fullscreen=False, hide_cursor=False, width=1920, height=1080)
        pump_until(lambda: False, 0.5)
        print(f"RSS after start: {rss_mb():.0f} MB")
        holder = sample_holder(name="张建明", ssn="440106195203154324")
        started = time.monotonic()
        failed = 0
        for n in range(1, visits + 1):
            services.virtual_cards.insert_card(CardConfig(pin="147258", holder=holder))
            ok = pump_until(lambda: window.current_page == "home")
            window.home.service_buttons["card_status"].click()
            ok = ok and pump_until(lambda: window.current_page == "step" and window.step.body is not None)
            window.step.cancel_button.click()
            services.virtual_cards.remove_card()
            ok = ok and pump_until(lambda: window.current_page == "attract"
                                   and services.card.status is DeviceStatus.NO_MEDIA)
            failed += not ok
            if n % every == 0 or n == visits:
                pump_until(lambda: not services.flows.busy, 5)
                print(f"RSS after {n} visits: {rss_mb():.0f} MB "
                      f"({(time.monotonic() - started) / n * 1000:.0f} ms per visit, {failed} visits not completed)")
        if face_count:
            face_checks(services, face_count)
        window.shutdown()
        window.prompter.close()
        bridge.detach_all()
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--face-checks", type=int, default=5)
    parser.add_argument("--eager", action="store_true", help="load the face models at start (before issue 19)")
    parser.add_argument("--compare", action="store_true", help="memory both ways, each in its own process")
    args = parser.parse_args()
    os.environ.setdefault("KIOSK_SHARED_DIR", str(ROOT.parent / "shared"))
    if args.starts:
        bench_startup(args.starts)
    if args.compare:
        for eager in (True, False):
            command = [sys.executable, __file__, "--starts", "0", "--visits", str(args.visits), "--every",
                       str(args.every), "--face-checks", str(args.face_checks)] + (["--eager"] if eager else [])
            subprocess.run(command, check=False, cwd=ROOT)
    elif args.visits or args.face_checks:
        bench_memory(args.visits, args.every, args.face_checks, args.eager)


if __name__ == "__main__":
    main()
