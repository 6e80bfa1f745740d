"""A field kiosk as its own process for the console tests: tests/field/field_proc.py's commands
(the real kiosk from kiosk.app.build_kiosk, field profile, simulated devices), plus two of our own:

    {"cmd": "unplug_pad"}   -> pull the simulated PIN pad's USB cable (the pty closes)
    {"cmd": "heartbeats"}   -> how many heartbeats the backend acknowledged
    {"cmd": "review_decision", "record": ID} -> the reviewer's decision as the kiosk keeps it
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "field"))

import field_proc  # noqa: E402

from kiosk.app import build_kiosk  # noqa: E402
from kiosk.config import load_config  # noqa: E402
from kiosk.field.certify import FieldError  # noqa: E402
from kiosk.field.operators import SignInError  # noqa: E402
from kiosk.field.service import start_field  # noqa: E402
from kiosk.field.vault import RosterError  # noqa: E402


def main() -> int:
    config = load_config("field", Path(sys.argv[1]))
    services = build_kiosk(config)
    field = start_field(services)
    camera_image = Path(config.camera.source)

    def reply(obj: dict) -> None:
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    reply({"ready": True, "problems": services.problems})
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "unplug_pad":
                services.pinpad_simulator.unplug()
                reply({"ok": True})
            elif cmd["cmd"] == "review_decision":
                from kiosk.heartbeat import review_decision

                reply({"ok": True, "decision": review_decision(services.sync.store, cmd["record"])})
            elif cmd["cmd"] == "heartbeats":
                reply({"ok": True, "sent": services.heartbeat.sent, "error": services.heartbeat.last_error})
            else:
                reply({"ok": True, **field_proc.handle(cmd, services, field, camera_image)})
        except (FieldError, SignInError, RosterError) as exc:
            reply({"ok": False, "code": exc.code, "error": str(exc)})
        except SystemExit:
            break
        except Exception as exc:
            reply({"ok": False, "code": "exception", "error": f"{type(exc).__name__}: {exc}",
                   "trace": traceback.format_exc()[-1500:]})
    field.stop()
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
