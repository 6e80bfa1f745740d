"""The identity of the running release, as installed from its signed bundle.

The installer (scripts/install-kiosk.sh, kiosk.appliance.update) writes ``RELEASE.json`` at the root
of the installed application tree: ``{"version", "sha256", "signed_by"}`` where ``sha256`` is the
sha256 of the whole signed bundle file and ``signed_by`` the id of the release key that signed it.
The heartbeat reports it so the centre can tell a genuine kiosk from an altered one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kiosk

RELEASE_FILE = "RELEASE.json"


def app_root() -> Path:
    """The installed application tree: the folder holding the ``kiosk`` package."""
    return Path(kiosk.__file__).resolve().parent.parent


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sscard-kiosk")
    except PackageNotFoundError:
        return "0+unknown"


def read_release(root: Path) -> dict[str, Any] | None:
    """RELEASE.json under ``root``, or None when absent or unreadable (a source checkout)."""
    try:
        data = json.loads((root / RELEASE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def running_release() -> dict[str, Any]:
    """``{"version", "sha256"}`` of the running code; sha256 is None when not installed from a bundle."""
    data = read_release(app_root())
    if data is None or not isinstance(data.get("version"), str):
        return {"version": package_version(), "sha256": None}
    sha = data.get("sha256")
    return {"version": data["version"], "sha256": sha if isinstance(sha, str) else None}


def write_release(root: Path, version: str, sha256: str | None, signed_by: str | None) -> Path:
    path = root / RELEASE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": version, "sha256": sha256, "signed_by": signed_by}, indent=2) + "\n",
                   encoding="utf-8")
    tmp.replace(path)
    return path
