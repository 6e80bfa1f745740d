"""Doctor checks for the smart-card layer: PC/SC service, readers and their roles, PSAM, secure PIN entry."""

from __future__ import annotations

import re

from drivers.smartcard import part10
from drivers.smartcard.readers import PcscBackend, ReaderError, ReaderErrorKind
from kiosk.config import KioskConfig
from kiosk.doctor import CheckResult, Verdict


def checks(config: KioskConfig) -> list[CheckResult]:
    sc = config.smartcard
    if sc.backend == "virtual":
        return [CheckResult("card reader", Verdict.OK, "in-process virtual card and PSAM (demo profile, test keys)")]
    backend = PcscBackend()
    try:
        backend.open()
        readers = backend.list_readers()
    except ReaderError as exc:
        return [CheckResult("card reader", Verdict.PROBLEM, f"PC/SC service not reachable: {exc}",
                            "start pcscd (systemctl start pcscd.socket) and check that the reader is plugged in")]
    try:
        return [*_roles(backend, readers, sc.citizen_reader_pattern, sc.psam_reader_pattern)]
    finally:
        backend.close()


def _roles(backend: PcscBackend, readers: list[str], citizen_pattern: str, psam_pattern: str) -> list[CheckResult]:
    listed = ", ".join(readers) or "none"
    citizen = next((r for r in readers if re.search(citizen_pattern, r)), None)
    psam = next((r for r in readers if re.search(psam_pattern, r) and r != citizen), None)
    results = []
    if citizen is None:
        results.append(CheckResult("card reader", Verdict.PROBLEM,
                                   f"no reader matches {citizen_pattern!r} (readers: {listed})",
                                   "plug in the card reader, or set smartcard.citizen_reader_pattern"))
    else:
        results.append(CheckResult("card reader", Verdict.OK, f"citizen's slot: {citizen}"))
        results.append(_secure_pin_entry(backend, citizen))
    if psam is None:
        results.append(CheckResult("PSAM", Verdict.PROBLEM, f"no reader matches {psam_pattern!r} (readers: {listed})",
                                   "check the PSAM slot, or set smartcard.psam_reader_pattern; PIN reset, "
                                   "unblock and 3rd-generation cards need it"))
    else:
        try:
            backend.connect(psam).close()
            results.append(CheckResult("PSAM", Verdict.OK, f"PSAM present in {psam}"))
        except ReaderError as exc:
            results.append(CheckResult("PSAM", Verdict.PROBLEM, f"{psam}: {exc.kind.value}",
                                       "insert the PSAM card into its slot (contacts down) and restart the kiosk"))
    return results


def _secure_pin_entry(backend: PcscBackend, reader: str) -> CheckResult:
    try:
        conn = backend.connect_direct(reader)
    except ReaderError as exc:
        if exc.kind is ReaderErrorKind.UNSUPPORTED:
            return CheckResult("secure PIN entry", Verdict.OK, "not offered by this reader: the PIN pad is used")
        return CheckResult("secure PIN entry", Verdict.WARN, f"could not ask the reader: {exc.kind.value}",
                           "nothing needed: the PIN pad is used for PINs")
    try:
        code = part10.features(conn).get(part10.FEATURE_VERIFY_PIN_DIRECT)
    finally:
        conn.close()
    if code is None:
        return CheckResult("secure PIN entry", Verdict.OK, "not offered by this reader: the PIN pad is used")
    return CheckResult("secure PIN entry", Verdict.OK, f"FEATURE_VERIFY_PIN_DIRECT offered (control code 0x{code:08X})")
