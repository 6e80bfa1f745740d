"""Build the PIN pad service from plain keyword arguments (kiosk/app.py maps [pinpad] to them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from drivers.crypto.pinblock import PinBlockFormat
from drivers.pinpad import kmy
from drivers.pinpad.api import PinPadService
from drivers.pinpad.driver import SerialPinPad
from drivers.pinpad.protocol import Link, PadProtocol
from drivers.pinpad.simulator import PinPadSimulator
from drivers.pinpad.timing import timing_problem
from drivers.serial_link import SerialLink

FORMATS = {"iso0": PinBlockFormat.ISO0, "iso3": PinBlockFormat.ISO3, "iso4": PinBlockFormat.ISO4}


@dataclass
class PinPadSetup:
    """The service, and for the simulator backend the simulated pad (its ``press`` feeds keys)."""

    service: SerialPinPad
    simulator: PinPadSimulator | None = None

    def close(self) -> None:
        self.service.stop()
        if self.simulator is not None:
            self.simulator.stop()


def _protocol_factory(protocol: str, settings: kmy.KmySettings) -> Callable[[Link], PadProtocol]:
    # One entry per vendor module; a second family (ZT598...) adds a line here, not an `if`.
    modules: dict[str, Callable[[Link], PadProtocol]] = {
        "kmy": lambda link: kmy.KmyProtocol(link, settings),
    }
    if protocol not in modules:
        raise ValueError(f"unknown PIN pad protocol {protocol!r}; expected one of {sorted(modules)}")
    return modules[protocol]


def create_pinpad(*, backend: str = "simulator", port: str = "/dev/sscard-epp", baudrate: int = 9600,
                  protocol: str = "kmy", wire_form: str = "binary", send_etx: bool = True,
                  algorithm: str = "sm4", pin_block_format: str = "iso0", sm4_expansion: str = "zero_suffix",
                  pin_timeout_s: float = 30.0, command_timeout_s: float = 3.5, answer_timeout_s: float = 1.0,
                  retries: int = 2, reconnect_max_backoff_s: float = 30.0, ceremony_mode: bool = False,
                  backspace_byte: int = 0x7F, key_slots: dict[str, int | tuple[int, int]] | None = None,
                  simulator_master_key: bytes | None = None, start: bool = True) -> PinPadSetup:
    """Return the PIN pad service (started unless ``start=False``).

    backend "serial": the real pad on ``port`` (a stable udev symlink). backend "simulator": a
    simulated pad on a fresh pseudo-terminal (``port`` is ignored); ``simulator_master_key`` is
    the master key it holds as if a ceremony had loaded it (demo: the virtual PSAM's test key).
    """
    if backend not in ("serial", "simulator"):
        raise ValueError(f"unknown PIN pad backend {backend!r}; expected 'serial' or 'simulator'")
    if pin_block_format not in FORMATS:
        raise ValueError(f"unknown PIN block format {pin_block_format!r}; expected one of {sorted(FORMATS)}")
    problem = timing_problem(command_timeout_s, answer_timeout_s, retries)
    if problem is not None:
        raise ValueError(f"PIN pad timing: {problem}")
    keys = kmy.KeyMap(backspace=backspace_byte)
    settings = kmy.KmySettings(wire_form=wire_form, send_etx=send_etx, answer_timeout_s=answer_timeout_s,
                               retries=retries, sm4_expansion=sm4_expansion, keys=keys)
    simulator = None
    if backend == "simulator":
        simulator = PinPadSimulator(wire_form=wire_form, send_etx=send_etx, ceremony_mode=ceremony_mode, keys=keys)
        if simulator_master_key is not None:
            simulator.provision_master_key(algorithm, simulator_master_key)
        port = simulator.start()
    service = SerialPinPad(lambda: SerialLink(port, baudrate), _protocol_factory(protocol, settings),
                           port=port, algorithm=algorithm, pin_format=FORMATS[pin_block_format],
                           wire_form=wire_form, command_timeout_s=command_timeout_s, pin_timeout_s=pin_timeout_s,
                           reconnect_max_backoff_s=reconnect_max_backoff_s, ceremony_mode=ceremony_mode,
                           key_slots=key_slots)
    if start:
        service.start()
    _: PinPadService = service      # the driver implements the service protocol
    return PinPadSetup(service, simulator)
