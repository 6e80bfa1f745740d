"""Build the ID-card reader service from plain keyword arguments (kiosk/app.py maps [idcard] to them)."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.idcard.api import IdCardReaderService
from drivers.idcard.driver import IdNumberCheck, SerialIdCardReader
from drivers.idcard.simulator import IdCardReaderSimulator, Timing
from drivers.serial_link import SerialLink


@dataclass
class IdCardSetup:
    """The service, and for the simulator backend the simulated reader (``place`` / ``remove``)."""

    service: SerialIdCardReader
    simulator: IdCardReaderSimulator | None = None

    def close(self) -> None:
        self.service.stop()
        if self.simulator is not None:
            self.simulator.stop()


def create_idcard_reader(*, backend: str = "simulator", port: str = "/dev/sscard-idr", baudrate: int = 115200,
                         answer_timeout_s: float = 0.5, read_timeout_s: float = 3.0, retries: int = 2,
                         poll_interval_s: float = 0.25, command_timeout_s: float = 6.0,
                         reconnect_max_backoff_s: float = 30.0, id_number_check: IdNumberCheck | None = None,
                         simulator_timing: Timing | None = None, start: bool = True) -> IdCardSetup:
    """backend "serial": the reader on ``port`` (a stable udev symlink). backend "simulator": a
    simulated reader on a fresh pseudo-terminal (``port`` is ignored), paced at ``baudrate``."""
    if backend not in ("serial", "simulator"):
        raise ValueError(f"unknown ID-card reader backend {backend!r}; expected 'serial' or 'simulator'")
    simulator = None
    if backend == "simulator":
        simulator = IdCardReaderSimulator(timing=simulator_timing or Timing(baud=baudrate))
        port = simulator.start()
    service = SerialIdCardReader(lambda: SerialLink(port, baudrate, poll_s=0.01), port=port, answer_timeout_s=answer_timeout_s,
                                 read_timeout_s=read_timeout_s, retries=retries, poll_interval_s=poll_interval_s,
                                 command_timeout_s=command_timeout_s,
                                 reconnect_max_backoff_s=reconnect_max_backoff_s, id_number_check=id_number_check)
    if start:
        service.start()
    _: IdCardReaderService = service
    return IdCardSetup(service, simulator)
