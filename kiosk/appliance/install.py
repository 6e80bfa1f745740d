"""Install a verified release beside the running one: unpack, build its virtual environment,
write RELEASE.json last. Nothing here touches ``current``: the switch is layout.switch_to.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

from kiosk.appliance.bundle import VerifiedBundle, unpack_verified
from kiosk.appliance.layout import Layout
from kiosk.appliance.release import RELEASE_FILE, read_release, write_release

log = logging.getLogger(__name__)


class InstallError(Exception):
    """The release could not be installed; the running one is untouched."""


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if not found:
        raise InstallError(f"{venv}: no site-packages folder (not a virtual environment?)")
    return found[0]


def build_venv(app: Path, python: str, wheels: Path | None = None, deps_from: Path | None = None) -> Path:
    """``app/.venv`` with the pinned dependencies and the application on its path.

    Production: the bundle's ``wheels/`` installed offline (``pip --no-index``). Development and CI:
    ``deps_from`` names an existing virtual environment whose packages are reused (a .pth line);
    with neither, pip installs the pinned requirements from the package index.
    The application itself is not pip-installed: a .pth line puts ``app`` on the path, so
    ``kiosk.__file__`` lies in the release folder, beside its RELEASE.json.
    """
    venv = app / ".venv"
    has_wheels = wheels is not None and any(wheels.glob("*.whl"))
    with_pip = has_wheels or deps_from is None
    cmd = [python, "-m", "venv", *([] if with_pip else ["--without-pip"]), str(venv)]
    _run(cmd, "create the virtual environment")
    site = site_packages(venv)
    if deps_from is not None and not has_wheels:
        (site / "_sscard_deps.pth").write_text(f"{site_packages(deps_from.resolve())}\n", encoding="utf-8")
    else:
        # Offline from the bundle's wheels; a bundle without wheels (a developer's) falls back to
        # the package index, and an offline kiosk then fails here, before anything is switched.
        source = ["--no-index", "--find-links", str(wheels)] if has_wheels else []
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", *source,
              "-r", str(app / "requirements.txt")], "install the dependencies")
    # The release folder, found from where this venv really lies: started through the ``current``
    # link, a running kiosk still imports its own release's modules after a switch. (An "import"
    # line in a .pth runs inside site.addpackage, where ``sitedir`` is this folder.)
    rel = os.path.relpath(app, site)
    (site / "_sscard_app.pth").write_text(
        f"import os, sys; sys.path.append(os.path.normpath(os.path.join(os.path.realpath(sitedir), {rel!r})))\n",
        encoding="utf-8")
    return venv


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise InstallError(f"could not {what}: {' '.join(cmd[:4])}... exited {done.returncode}: "
                           f"{(done.stderr or done.stdout).strip()[-400:]}")


def install_beside(bundle: VerifiedBundle, layout: Layout, *, python: str = "python3",
                   deps_from: Path | None = None) -> Path:
    """The release folder for ``bundle``, installed (or found complete from an earlier run)."""
    dest = layout.release_dir(bundle.version, bundle.sha256)
    if (read_release(dest) or {}).get("sha256") == bundle.sha256:
        return dest                                   # already installed: idempotent
    layout.releases.mkdir(parents=True, exist_ok=True)
    staging = layout.releases / f".staging-{dest.name}"
    for leftover in (staging, dest):                  # an interrupted earlier attempt
        shutil.rmtree(leftover, ignore_errors=True)
    unpack_verified(bundle, staging)
    if not (staging / "app" / "kiosk" / "__init__.py").exists():
        shutil.rmtree(staging, ignore_errors=True)
        raise InstallError(f"{bundle.path.name}: the bundle has no app/kiosk package; not a kiosk release")
    (staging / "app").rename(dest)                    # before the venv: its scripts name their own path
    wheels = staging / "wheels"
    try:
        build_venv(dest, python, wheels if wheels.is_dir() else None, deps_from)
    except InstallError:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    write_release(dest, bundle.version, bundle.sha256, bundle.key_id)
    log.info("release installed beside the running one", extra={"release": dest.name})
    return dest


def install_source(source: Path, version: str, layout: Layout, *, python: str = "python3",
                   deps_from: Path | None = None, parts: tuple[str, ...] | None = None) -> Path:
    """Development and CI: a release folder from a source checkout (RELEASE.json sha256 null)."""
    from kiosk.appliance.bundle import APP_PARTS, requirements_from

    dest = layout.release_dir(version, None)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for part in parts or APP_PARTS:
        src = source / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=ignore)
        elif src.is_file():
            shutil.copy2(src, dest / part)
    (dest / "requirements.txt").write_text(requirements_from(source / "pyproject.toml"), encoding="utf-8")
    build_venv(dest, python, None, deps_from)
    write_release(dest, version, None, None)
    return dest


__all__ = ["RELEASE_FILE", "InstallError", "build_venv", "install_beside", "install_source"]
