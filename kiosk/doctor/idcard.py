"""Doctor checks for the resident ID-card reader: the port, the SAM's answer and id, the line.

On the demo profile the check starts a simulated reader on a pseudo-terminal and asks its SAM,
which proves the serial path (pty, pyserial, framing, worker thread) works on this machine.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from drivers.api import DeviceStatus
from drivers.idcard.api import idcard_error
from drivers.idcard.factory import create_idcard_reader
from kiosk.doctor import CheckResult, Verdict

_NAME = "ID-card reader"
_SAM = "ID-card reader SAM"


def checks(config: Any) -> list[CheckResult]:
    section = config.idcard
    if not section.enabled:
        return [CheckResult(_NAME, Verdict.OK, "not configured on this kiosk (idcard.enabled = false)")]
    if section.backend == "serial":
        problem = _port(section.port)
        if problem is not None:
            return [problem]
    return _ask_sam(section)


def _port(port: str) -> CheckResult | None:
    if not os.path.exists(port):
        return CheckResult(_NAME, Verdict.PROBLEM, f"{port} does not exist",
                           "plug the ID-card reader in; check the udev rule that creates this link (docs/idcard.md)")
    if not stat.S_ISCHR(os.stat(port).st_mode):
        return CheckResult(_NAME, Verdict.PROBLEM, f"{port} is not a serial device",
                           "point idcard.port at the reader's tty or its udev symlink")
    if not os.access(port, os.R_OK | os.W_OK):
        return CheckResult(_NAME, Verdict.PROBLEM, f"no read/write access to {port}",
                           "add the kiosk user to the 'dialout' group (or fix the udev rule's MODE/GROUP)")
    return None


def _ask_sam(section: Any) -> list[CheckResult]:
    setup = create_idcard_reader(backend=section.backend, port=section.port, baudrate=section.baudrate,
                                 answer_timeout_s=section.answer_timeout_s, retries=section.retries,
                                 poll_interval_s=section.poll_interval_s, reconnect_max_backoff_s=1.0)
    where = "simulator on a pseudo-terminal" if setup.simulator is not None else section.port
    try:
        if not setup.service.wait_online(5.0):
            detail = setup.service.status_detail or "no answer"
            if setup.service.status is DeviceStatus.HARDWARE_ERROR:
                return [CheckResult(_SAM, Verdict.PROBLEM, f"{where}: {detail}"[:200],
                                    "the reader's security module failed its self-test or is not authorised: "
                                    "power-cycle the reader; if it persists, call the reader's supplier")]
            todo = ("close the running kiosk first (the port is opened exclusively)" if "cannot open" in detail
                    else f"check the cable and the baud rate ({section.baudrate})")
            return [CheckResult(_NAME, Verdict.PROBLEM, f"{where}: {detail}"[:200], todo)]
        done = setup.service.sam_info().wait(5.0)
        if not done.ok or done.result is None:
            return [CheckResult(_SAM, Verdict.PROBLEM, f"SAM id query failed: {idcard_error(done)}",
                                "power-cycle the reader; if it persists, call the reader's supplier")]
        results = [CheckResult(_NAME, Verdict.OK, f"answers on {where} at {section.baudrate} baud"),
                   CheckResult(_SAM, Verdict.OK, f"SAM {done.result.sam_id}")]
        if setup.service.junk_bytes:
            results.append(CheckResult(_NAME, Verdict.WARN, f"{setup.service.junk_bytes} bytes of line noise",
                                       "check the cable and its shielding; keep it away from power supplies"))
        return results
    finally:
        setup.close()
