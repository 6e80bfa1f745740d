from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from drivers.api import CommandContext, CompletionCode, DeviceWorker
from kiosk.flows.base import CancelToken, FailureCounter, FlowCanceled, FlowRunner, await_command


@pytest.fixture
def worker() -> Iterator[DeviceWorker]:
    w = DeviceWorker("flow-test", idle_interval=0.05)
    w.start()
    yield w
    w.stop()


def test_await_command_returns_completion(worker: DeviceWorker) -> None:
    token = CancelToken()
    completion = await_command(token, worker.submit("x", lambda ctx: 7, timeout=2))
    assert completion.ok and completion.result == 7


def test_visit_end_cancels_the_running_device_command(worker: DeviceWorker) -> None:
    token = CancelToken()
    started = threading.Event()

    def entry(ctx: CommandContext) -> None:
        started.set()
        while True:
            ctx.wait(0.02)

    handle = worker.submit("pin-entry", entry, timeout=30)
    threading.Thread(target=lambda: (started.wait(2), token.cancel("card_removed")), daemon=True).start()
    with pytest.raises(FlowCanceled) as err:
        await_command(token, handle)
    assert err.value.reason == "card_removed"
    assert handle.wait(2).code is CompletionCode.CANCELED


def test_failure_counter_reaches_limit() -> None:
    counter = FailureCounter(3)
    assert [counter.fail("face") for _ in range(3)] == [False, False, True]
    assert counter.left("face") == 0 and counter.left("sms") == 3


def test_flow_runner_reports_errors_and_cancellation() -> None:
    runner = FlowRunner()
    done: list[BaseException | None] = []
    finished = threading.Event()

    def body(token: CancelToken) -> None:
        token.wait(5)

    runner.start("waits", body, lambda err: (done.append(err), finished.set()))
    assert runner.busy
    with pytest.raises(RuntimeError):
        runner.start("second", body)
    runner.cancel("timeout")
    assert finished.wait(2) and done == [None]

    failed = threading.Event()
    runner.start("crashes", lambda token: 1 / 0, lambda err: (done.append(err), failed.set()))
    assert failed.wait(2) and isinstance(done[-1], ZeroDivisionError)
