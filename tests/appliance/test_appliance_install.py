"""scripts/install-kiosk.sh into a scratch root (DESTDIR), checked file by file; idempotent;
uninstall leaves the root as it was. The units pass `systemd-analyze verify`, the udev rules
parse cleanly in `udevadm test`, the pcscd guard refuses vpcd, and `kiosk doctor` reads it all.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from pathlib import Path

import pytest
from appliance_helpers import DEPS_FROM, ROOT

from kiosk.config import load_config

INSTALL = ROOT / "scripts" / "install-kiosk.sh"
UNINSTALL = ROOT / "scripts" / "uninstall-kiosk.sh"
KIOSK_UID = "sscard-kiosk"
# Every path the installer creates outside the release folder: mode, owner ("root" / "kiosk"), group.
EXPECTED = {
    "etc/pam.d": (0o755, "root", "root"), "etc/pam.d/cage": (0o644, "root", "root"),
    "etc/sscard-kiosk": (0o750, "root", "kiosk"), "etc/sscard-kiosk/kiosk.env": (0o640, "root", "kiosk"),
    "etc/sscard-kiosk/site.toml": (0o640, "root", "kiosk"),
    "etc/sscard-kiosk/release-keys": (0o755, "root", "root"),
    "etc/systemd": (0o755, "root", "root"), "etc/systemd/system": (0o755, "root", "root"),
    "etc/systemd/system/sscard-kiosk.service": (0o644, "root", "root"),
    "etc/systemd/system/sscard-kiosk-update.service": (0o644, "root", "root"),
    "etc/systemd/system/sscard-kiosk-update.path": (0o644, "root", "root"),
    "etc/systemd/system/pcscd.service.d": (0o755, "root", "root"),
    "etc/systemd/system/pcscd.service.d/sscard-kiosk.conf": (0o644, "root", "root"),
    "etc/sysusers.d": (0o755, "root", "root"), "etc/sysusers.d/sscard-kiosk.conf": (0o644, "root", "root"),
    "etc/tmpfiles.d": (0o755, "root", "root"), "etc/tmpfiles.d/sscard-kiosk.conf": (0o644, "root", "root"),
    "etc/udev": (0o755, "root", "root"), "etc/udev/rules.d": (0o755, "root", "root"),
    "etc/udev/rules.d/70-sscard-kiosk.rules": (0o644, "root", "root"),
    "opt": (0o755, "root", "root"), "opt/sscard-kiosk": (0o755, "root", "root"),
    "opt/sscard-kiosk/current": (0o777, "root", "root"), "opt/sscard-kiosk/releases": (0o755, "root", "root"),
    "usr": (0o755, "root", "root"), "usr/lib": (0o755, "root", "root"),
    "usr/lib/sscard-kiosk": (0o755, "root", "root"),
    "usr/lib/sscard-kiosk/pcscd-refuse-vpcd": (0o755, "root", "root"),
    "var": (0o755, "root", "root"), "var/lib": (0o755, "root", "root"),
    "var/lib/sscard-kiosk": (0o750, "kiosk", "kiosk"), "var/lib/sscard-kiosk/models": (0o750, "kiosk", "kiosk"),
    "var/lib/sscard-kiosk-updates": (0o750, "root", "kiosk"),
    "var/lib/sscard-kiosk-updates/incoming": (0o770, "root", "kiosk"),
}
BASE_FILES = ("passwd", "group", "shadow", "gshadow")


def _scratch_root(root: Path) -> Path:
    """The account files of a fresh Debian, plus their backups (sysusers rewrites those)."""
    (root / "etc").mkdir(parents=True)
    for name, text in zip(BASE_FILES, ("root:x:0:0:root:/root:/bin/bash\n", "root:x:0:\ndialout:x:20:\nvideo:x:44:\n",
                                       "root:*:19000:0:99999:7:::\n", "root:*::\ndialout:*::\nvideo:*::\n"), strict=True):
        (root / "etc" / name).write_text(text)
        (root / "etc" / f"{name}-").write_text(text)
    (root / "etc" / ".pwd.lock").touch()
    return root


def _snapshot(root: Path) -> dict[str, tuple[int, int, int, str]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                what = "-> " + os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                what = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                what = "dir"
            out[str(path.relative_to(root))] = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, what)
    return out


def _install(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(INSTALL), "--from-source", "--destdir", str(root), "--deps-from", str(DEPS_FROM),
                           "--profile", "office", "--kiosk-id", "GZ-TH-0012", "--pinpad-usb", "067b:2303",
                           "--idcard-usb", "1a86:7523", "--camera-usb", "0c45:636b", *extra],
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def installed(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = _scratch_root(tmp_path / "root")
    before = _snapshot(root)
    done = _install(root)
    assert done.returncode == 0, done.stderr
    return root, before


def test_install_is_checked_file_by_file_idempotent_and_uninstalls_to_nothing(installed) -> None:  # type: ignore[no-untyped-def]
    root, before = installed
    kiosk_line = next(line for line in (root / "etc/passwd").read_text().splitlines() if line.startswith(KIOSK_UID))
    _name, _x, uid, gid, _gecos, home, shell = kiosk_line.split(":")
    assert (home, shell) == ("/var/lib/sscard-kiosk", "/usr/sbin/nologin") and int(uid) < 1000
    # The kiosk user is in its own group only: not dialout, not video (devices come from udev rules).
    members = [line for line in (root / "etc/group").read_text().splitlines() if KIOSK_UID in line.split(":")[3]]
    assert members == []
    owner = {"root": 0, "kiosk": int(uid)}
    group = {"root": 0, "kiosk": int(gid)}
    snap = _snapshot(root)
    added = {p: v for p, v in snap.items() if p not in before and not p.startswith("opt/sscard-kiosk/releases/")}
    assert sorted(added) == sorted(EXPECTED)
    for path, (mode, own, grp) in EXPECTED.items():
        actual = snap[path]
        if not path.endswith("current"):
            assert actual[:3] == (mode, owner[own], group[grp]), path
    assert snap["opt/sscard-kiosk/current"][3] == "-> releases/0.1.0-source"
    # Files from deploy/ arrive unchanged; the two rendered ones say what was asked.
    for rel, src in (("etc/systemd/system/sscard-kiosk.service", "deploy/systemd/sscard-kiosk.service"),
                     ("etc/pam.d/cage", "deploy/pam.d/cage"),
                     ("usr/lib/sscard-kiosk/pcscd-refuse-vpcd", "deploy/libexec/pcscd-refuse-vpcd")):
        assert (root / rel).read_bytes() == (ROOT / src).read_bytes()
    rules = (root / "etc/udev/rules.d/70-sscard-kiosk.rules").read_text()
    assert 'ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="7523", SYMLINK+="kiosk-idcard"' in rules and "@" not in rules
    assert (root / "etc/sscard-kiosk/kiosk.env").read_text().count("KIOSK_PROFILE=office") == 1
    assert 'id = "GZ-TH-0012"' in (root / "etc/sscard-kiosk/site.toml").read_text()
    # The installed application knows its release (RELEASE.json beside its kiosk package).
    python = root / "opt/sscard-kiosk/current/.venv/bin/python"
    shown = subprocess.run([str(python), "-P", "-c", "from kiosk.appliance.release import running_release as r;"
                            "import kiosk; print(r(), kiosk.__file__)"], capture_output=True, text=True, check=True, cwd="/")
    assert shown.stdout.startswith("{'version': '0.1.0', 'sha256': None} " + str(root / "opt/sscard-kiosk/releases"))

    (root / "etc/sscard-kiosk/site.toml").write_text("# the bureau's edits\n")
    assert _install(root).returncode == 0                      # again: same tree, site file kept
    again = _snapshot(root)
    assert again.keys() == snap.keys()
    assert {p for p in snap if snap[p] != again[p]} == {"etc/sscard-kiosk/site.toml"}

    (root / "var/lib/sscard-kiosk/kiosk.sqlite3").write_bytes(b"records")
    kept = subprocess.run(["bash", str(UNINSTALL), "--destdir", str(root)], capture_output=True, text=True, check=False)
    assert kept.returncode == 1 and "--purge-data" in kept.stderr
    assert (root / "var/lib/sscard-kiosk/kiosk.sqlite3").exists() and (root / "opt/sscard-kiosk").exists()
    gone = subprocess.run(["bash", str(UNINSTALL), "--destdir", str(root), "--purge-data"], capture_output=True,
                          text=True, check=False)
    assert gone.returncode == 0, gone.stderr
    after = _snapshot(root)
    backups = {p for p in before if p.endswith("-") or p.endswith(".pwd.lock")}   # the tools' own backups
    assert after.keys() == before.keys()
    assert {p: v for p, v in after.items() if p not in backups} == {p: v for p, v in before.items() if p not in backups}


def _in_overlay(root: Path, script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` where /opt, /usr/lib and /etc/systemd/system show the scratch root's files
    over the host's, and /etc/group is the scratch root's (private mount namespace; host untouched)."""
    mounts = " && ".join(f"mount -t overlay overlay -o lowerdir={root}/{d}:/{d} /{d}"
                         for d in ("opt", "usr/lib", "etc/systemd/system"))
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                           f"set -e; {mounts}; mount --bind {root}/etc/group /etc/group; {script}"],
                          capture_output=True, text=True, timeout=120, check=False)


def test_units_pass_systemd_analyze_verify(installed) -> None:  # type: ignore[no-untyped-def]
    root, _ = installed
    units = "sscard-kiosk.service sscard-kiosk-update.service sscard-kiosk-update.path pcscd.service"
    done = _in_overlay(root, f"systemd-analyze verify {units}")
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    # The check has teeth: the pcscd drop-in pointing at a missing guard fails it.
    (root / "usr/lib/sscard-kiosk/pcscd-refuse-vpcd").unlink()
    broken = _in_overlay(root, "systemd-analyze verify pcscd.service")
    assert broken.returncode != 0 and "pcscd-refuse-vpcd" in broken.stderr


def test_udev_rules_parse_cleanly(installed) -> None:  # type: ignore[no-untyped-def]
    root, _ = installed
    rules_dir = root / "etc/udev/rules.d"
    (rules_dir / "71-typo.rules").write_text('SUBSYSTEM=="tty", ATTRS{idVendor}=="067b", SYMLNK+="x"\n')
    done = _in_overlay(root, f"mount --bind {rules_dir} /etc/udev/rules.d; udevadm test --action=add /sys/class/tty/tty")
    log = done.stdout + done.stderr
    assert "Reading rules file: /etc/udev/rules.d/70-sscard-kiosk.rules" in log
    assert [line for line in log.splitlines() if "70-sscard-kiosk.rules:" in line] == []
    assert "71-typo.rules:1" in log                             # a bad key is reported, ours have none


def test_vpcd_is_refused_outside_the_demo(tmp_path: Path) -> None:
    from kiosk.appliance.pcsc_guard import VirtualReaderEnabled, refuse_vpcd_outside_demo

    conf = tmp_path / "reader.conf.d"
    conf.mkdir()
    (conf / "libccidtwin").write_text("#LIBPATH /usr/lib/pcsc/drivers/serial/libccidtwin.so\n")
    guard = [str(ROOT / "deploy/libexec/pcscd-refuse-vpcd")]
    env = {**os.environ, "PCSC_READER_CONF_DIR": str(conf)}
    assert subprocess.run(guard, env=env, check=False).returncode == 0
    refuse_vpcd_outside_demo("office", "pcsc", conf, ())
    (conf / "vpcd").write_text('FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x8C7B\n'
                               "LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID 0x8C7B\n")
    refused = subprocess.run(guard, env=env, capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and "vsmartcard-vpcd" in refused.stderr
    with pytest.raises(VirtualReaderEnabled, match="apt-get purge vsmartcard-vpcd"):
        refuse_vpcd_outside_demo("field", "pcsc", conf, ())
    refuse_vpcd_outside_demo("demo", "virtual", conf, ())           # the demo may use it


def test_kiosk_will_not_start_on_office_beside_the_system_vpcd(tmp_path: Path) -> None:
    """This machine has vsmartcard-vpcd installed (the test suite's virtual readers): exactly the
    state a production kiosk must refuse. `kiosk run --profile office` stops before any window."""
    assert (Path("/etc/reader.conf.d/vpcd")).exists(), "setup.sh installs vsmartcard-vpcd"
    env = {**os.environ, "KIOSK__KIOSK__DATA_DIR": str(tmp_path)}
    done = subprocess.run([str(DEPS_FROM / "bin/python"), "-m", "kiosk.cli", "run", "--profile", "office"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and "The kiosk will not start" in done.stderr and "vpcd" in done.stderr
    scratch = _scratch_root(tmp_path / "root")
    (scratch / "etc/reader.conf.d").mkdir()
    (scratch / "etc/reader.conf.d/vpcd").write_bytes(Path("/etc/reader.conf.d/vpcd").read_bytes())
    refused = _install(scratch)
    assert refused.returncode == 1 and "purge vsmartcard-vpcd" in refused.stderr
    assert not (scratch / "opt").exists()


def test_doctor_reads_the_installed_appliance(installed, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kiosk.doctor import Verdict
    from kiosk.doctor.appliance import checks

    root, _ = installed
    monkeypatch.setenv("KIOSK_APPLIANCE_ROOT", str(root))       # where the doctor looks, not a stand-in
    (root / "dev").mkdir()
    os.mknod(root / "dev/kiosk-pinpad", 0o660 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(root / "dev/kiosk-idcard", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.chmod(root / "dev/kiosk-idcard", 0o666)  # noqa: S103 - the mistake the doctor must catch
    found = {r.name: r for r in checks(load_config("office", environ={}))}
    assert found["virtual reader"].verdict is Verdict.OK
    assert found["release"].verdict is Verdict.WARN                # dev checkout, not a signed bundle
    assert found["kiosk service"].verdict is Verdict.OK and "watchdog 30" in found["kiosk service"].detail
    assert found["PIN pad /dev/kiosk-pinpad"].verdict is Verdict.OK
    assert found["ID-card reader /dev/kiosk-idcard"].verdict is Verdict.PROBLEM   # world-writable
    assert found["kiosk process"].verdict is Verdict.WARN              # not started here
    (root / "etc/reader.conf.d").mkdir()
    (root / "etc/reader.conf.d/vpcd").write_text("LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\n")
    again = {r.name: r for r in checks(load_config("office", environ={}))}
    assert again["virtual reader"].verdict is Verdict.PROBLEM
