"""Where releases live on the appliance, and the atomic switch between them.

    /opt/sscard-kiosk/releases/<version>-<sha12>/   one folder per release: the application tree,
                                                    its .venv and RELEASE.json (written last: a
                                                    release without it is an unfinished install)
    /opt/sscard-kiosk/current  -> releases/...      what the kiosk unit starts
    /opt/sscard-kiosk/previous -> releases/...      what a rollback goes back to

Links are relative, so a tree installed under DESTDIR is the same tree on the target. A switch
makes a new link beside the old one and renames it over it: rename(2) is atomic, so the unit
sees either the old release or the new one, never none.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path("/opt/sscard-kiosk")


@dataclass(frozen=True)
class Layout:
    root: Path = DEFAULT_ROOT

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def previous(self) -> Path:
        return self.root / "previous"

    def target(self, link: Path) -> Path | None:
        return (link.parent / os.readlink(link)).resolve() if link.is_symlink() else None

    @property
    def rejected(self) -> Path:
        """sha256 of bundles that failed their health check, one a line: never installed again."""
        return self.root / "rejected-releases"

    def release_dir(self, version: str, sha256: str | None) -> Path:
        return self.releases / (f"{version}-{sha256[:12]}" if sha256 else f"{version}-source")


def point(link: Path, target: Path) -> None:
    """Make ``link`` point at ``target`` atomically (new link, then rename over the old one)."""
    tmp = link.with_name(f".{link.name}.new")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(os.path.relpath(target, link.parent))
    os.replace(tmp, link)


def switch_to(layout: Layout, release: Path) -> Path | None:
    """current -> release; the release it replaces becomes previous. Returns that one."""
    old = layout.target(layout.current)
    if old is not None and old != release.resolve():
        point(layout.previous, old)
    point(layout.current, release)
    return old


def prune(layout: Layout) -> list[Path]:
    """Remove releases that are neither current nor previous (and unfinished installs)."""
    keep = {layout.target(layout.current), layout.target(layout.previous)}
    removed = []
    for entry in layout.releases.iterdir() if layout.releases.is_dir() else []:
        if entry.resolve() not in keep:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
