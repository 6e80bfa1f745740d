"""No virtual reader outside the demo.

Debian's ``vsmartcard-vpcd`` drops ``/etc/reader.conf.d/vpcd``; the system pcscd then loads the
vpcd driver, which listens on TCP (port 0x8C7B = 35963 and the next one) for anyone on the network
to plug in a "card". On an office or field kiosk that is a remote card-insertion hole, so the
kiosk refuses to start, `kiosk doctor` reports it, and the pcscd drop-in
(deploy/libexec/pcscd-refuse-vpcd) refuses to start pcscd with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

READER_CONF_DIR = Path("/etc/reader.conf.d")
VPCD_DEFAULT_PORTS = (0x8C7B, 0x8C7C)
PROC_NET = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


class VirtualReaderEnabled(RuntimeError):
    """vpcd is enabled on a profile that talks to real cards."""


@dataclass(frozen=True)
class VpcdFinding:
    where: str       # a reader.conf.d file, or "tcp port N"
    detail: str


def vpcd_findings(conf_dir: Path = READER_CONF_DIR, proc_net: tuple[Path, ...] = PROC_NET) -> list[VpcdFinding]:
    """Every sign that vpcd is enabled: a reader.conf.d entry loading it, or its TCP port listening."""
    found = []
    for conf in sorted(conf_dir.glob("*")) if conf_dir.is_dir() else []:
        try:
            lines = conf.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            words = line.split()
            if len(words) >= 2 and words[0] == "LIBPATH" and "vpcd" in words[1]:
                found.append(VpcdFinding(str(conf), f"loads {words[1]}"))
    for port in _listening_ports(proc_net) & set(VPCD_DEFAULT_PORTS):
        found.append(VpcdFinding(f"tcp port {port}", "vpcd's port is listening"))
    return found


def _listening_ports(proc_net: tuple[Path, ...]) -> set[int]:
    ports = set()
    for table in proc_net:
        try:
            rows = table.read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 3 and cols[3] == "0A":          # TCP_LISTEN
                ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def refuse_vpcd_outside_demo(profile: str, smartcard_backend: str, conf_dir: Path = READER_CONF_DIR,
                             proc_net: tuple[Path, ...] = PROC_NET) -> None:
    """Raise VirtualReaderEnabled when a real-card profile would run beside an enabled vpcd."""
    if profile == "demo" or smartcard_backend != "pcsc":
        return
    findings = vpcd_findings(conf_dir, proc_net)
    if findings:
        where = "; ".join(f"{f.where}: {f.detail}" for f in findings)
        raise VirtualReaderEnabled(
            f"the virtual smart-card reader (vpcd) is enabled on the {profile} profile ({where}); it accepts "
            "'cards' from the network. Remove it: apt-get purge vsmartcard-vpcd, then systemctl restart pcscd")
