"""Doctor checks for the encrypting PIN pad: the configured port answers "get version".

For the simulator profile the check starts a simulated pad on a pseudo-terminal and asks it, which
proves the whole serial path (pty, pyserial, framing, driver thread) works on this machine.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from drivers.pinpad.factory import create_pinpad
from drivers.pinpad.timing import needed_command_timeout
from kiosk.doctor import CheckResult, Verdict

_NAME = "PIN pad"


def factory_kwargs(section: Any) -> dict[str, Any]:
    """Map the [pinpad] table to create_pinpad's keyword arguments (also for kiosk/app.py)."""
    return {
        "backend": section.backend, "port": section.port, "baudrate": section.baudrate,
        "protocol": section.protocol, "wire_form": section.wire_form, "send_etx": section.send_etx,
        "algorithm": section.pin_algorithm, "pin_block_format": section.pin_block_format,
        "sm4_expansion": section.sm4_expansion, "pin_timeout_s": float(section.pin_timeout_s),
        "command_timeout_s": section.command_timeout_s, "answer_timeout_s": section.answer_timeout_s,
        "retries": section.retries, "reconnect_max_backoff_s": section.reconnect_max_backoff_s,
        "ceremony_mode": section.ceremony_mode, "backspace_byte": section.backspace_byte,
    }


def checks(config: Any) -> list[CheckResult]:
    section = config.pinpad
    results: list[CheckResult] = []
    if section.backend == "serial":
        port_problem = _port(section.port)
        if port_problem is not None:
            return [port_problem]
    if section.ceremony_mode:
        results.append(CheckResult("PIN pad key ceremony", Verdict.WARN, "key-loading ceremony mode is ON",
                                   "turn pinpad.ceremony_mode off again once the master key is loaded"))
    results.insert(0, _ask_version(section))
    return results


def _port(port: str) -> CheckResult | None:
    if not os.path.exists(port):
        return CheckResult(_NAME, Verdict.PROBLEM, f"{port} does not exist",
                           "plug the PIN pad in; check the udev rule that creates this link (docs/pinpad-protocol.md)")
    mode = os.stat(port).st_mode
    if not stat.S_ISCHR(mode):
        return CheckResult(_NAME, Verdict.PROBLEM, f"{port} is not a serial device",
                           "point pinpad.port at the pad's tty or its udev symlink")
    if not os.access(port, os.R_OK | os.W_OK):
        return CheckResult(_NAME, Verdict.PROBLEM, f"no read/write access to {port}",
                           "add the kiosk user to the 'dialout' group (or fix the udev rule's MODE/GROUP)")
    return None


def _ask_version(section: Any) -> CheckResult:
    kwargs = factory_kwargs(section)
    # At least the configured tries' worth (drivers/pinpad/timing.py), so silence reads as noAnswer.
    kwargs.update(reconnect_max_backoff_s=1.0,
                  command_timeout_s=max(3.0, needed_command_timeout(section.answer_timeout_s, section.retries)))
    setup = create_pinpad(**kwargs)
    try:
        if not setup.service.wait_online(5.0):
            detail = setup.service.status_detail or "no answer"
            todo = ("close the running kiosk first (the port is opened exclusively)" if "cannot open" in detail
                    else f"check the cable, the baud rate ({section.baudrate}) and wire_form ({section.wire_form})")
            return CheckResult(_NAME, Verdict.PROBLEM, f"{section.port}: {detail}"[:200], todo)
        done = setup.service.info().wait(5.0)
        if not done.ok or done.result is None:
            return CheckResult(_NAME, Verdict.PROBLEM, f"version query failed: {done.error_code or done.code.value}",
                               "power-cycle the PIN pad; if it persists, call support")
        info = done.result
        where = "simulator on a pseudo-terminal" if setup.simulator is not None else section.port
        return CheckResult(_NAME, Verdict.OK, f"{info.version} (serial {info.serial}), {info.protocol}/"
                                              f"{info.wire_form}, {section.pin_algorithm}, {where}")
    finally:
        setup.close()
