"""The kiosk's run state, written from the UI loop for the updater and `kiosk doctor` to read.

``state.json`` in the service's runtime folder (systemd's ``RuntimeDirectory=`` gives
``$RUNTIME_DIRECTORY``; ``KIOSK_STATE_FILE`` overrides): which release runs, whether the attract
screen is showing (no visit), since when, whether the home screen came up, each device's status.
Written atomically (rename), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_NAME = "state.json"
SYSTEM_STATE_FILE = Path("/run/sscard-kiosk") / STATE_NAME
# Device statuses that count as working for the update health check.
WORKING = frozenset({"online", "noMedia", "busy"})


def state_path(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Where this process publishes its state; None outside a service (a developer's terminal)."""
    if environ.get("KIOSK_STATE_FILE"):
        return Path(environ["KIOSK_STATE_FILE"])
    runtime = environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime) / STATE_NAME if runtime else None


@dataclass
class RunState:
    pid: int
    release: dict[str, Any]
    idle: bool                          # the attract screen: no visit in progress
    idle_since: float | None            # wall-clock time the last visit ended (or start-up)
    home_ready: bool                    # the kiosk screen is up and its event loop turns
    devices: dict[str, str] = field(default_factory=dict)    # name -> DeviceStatus value
    problems: list[str] = field(default_factory=list)        # parts that did not start
    updated_at: float = field(default_factory=time.time)

    def working_devices(self) -> set[str]:
        return {name for name, status in self.devices.items() if status in WORKING}


def write_state(path: Path, state: RunState) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(state), ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def read_state(path: Path) -> RunState | None:
    """The last published state, or None when there is none (kiosk not started) or it is garbled."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunState(**data)
    except (OSError, ValueError, TypeError):
        return None
