"""Battery level from Linux's power-supply class (``/sys/class/power_supply/*``).

Where the platform reports no battery (a desktop, a VM, mains only) the level is ``None``: the
status bar shows nothing and certifications are not refused for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BatteryStatus:
    percent: int | None               # None: no battery reported
    charging: bool | None             # None: unknown
    source: str = ""                  # which power_supply entry

    def below(self, minimum: int) -> bool:
        """True only when a battery is reported, below ``minimum`` and not charging."""
        return self.percent is not None and self.percent < minimum and not self.charging


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None


def read_battery(root: str | Path = "/sys/class/power_supply") -> BatteryStatus:
    """The lowest-charged battery (a tablet with a keyboard dock has two); mains-only gives None."""
    base = Path(root)
    best: BatteryStatus | None = None
    try:
        supplies = sorted(base.iterdir())
    except OSError:
        return BatteryStatus(None, None)
    online_mains = False
    for supply in supplies:
        kind = _read(supply / "type")
        if kind == "Mains" and _read(supply / "online") == "1":
            online_mains = True
        if kind != "Battery" or _read(supply / "present") == "0":
            continue
        capacity = _read(supply / "capacity")
        if capacity is None or not capacity.lstrip("-").isdigit():
            continue
        percent = max(0, min(100, int(capacity)))
        status = _read(supply / "status")
        charging = status in ("Charging", "Full") if status else None
        if best is None or percent < (best.percent or 0):
            best = BatteryStatus(percent, charging, supply.name)
    if best is None:
        return BatteryStatus(None, None)
    if online_mains and best.charging is None:
        best = BatteryStatus(best.percent, True, best.source)
    return best
