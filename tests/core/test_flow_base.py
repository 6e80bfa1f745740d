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


def test_cancel_during_a_card_write_returns_at_once_and_the_next_flow_waits(worker: DeviceWorker) -> None:
    """The UI cancels with join_s=0 when the visit ends: it must not block while the flow waits
    for a slow write (which runs to its real end and is recorded), and the next flow must start
    only after that."""
    import time

    from kiosk.flows.common import FlowContext

    events: list[str] = []
    in_write = threading.Event()
    first_done = threading.Event()
    second_done = threading.Event()

    def slow_write(ctx: CommandContext) -> str:
        in_write.set()
        time.sleep(0.8)          # an APDU exchange that cannot be interrupted halfway
        return "written"

    def first(token: CancelToken) -> None:
        # FlowContext.card_write is the real helper the PIN flows use: it waits for the command's end.
        completion = FlowContext.card_write(_WriteCtx(token), worker.submit("write", slow_write, timeout=5))
        events.append(f"recorded {completion.result}")
        token.check()
        events.append("first went on")      # never: the visit ended

    def second(token: CancelToken) -> None:
        events.append("second started")

    runner = FlowRunner()
    runner.start("first", first, lambda err: (events.append("first done"), first_done.set()))
    assert in_write.wait(2)
    began = time.monotonic()
    runner.cancel("visit ended", join_s=0)
    runner.cancel("new service", join_s=0)       # the UI's start path cancels again: also at once
    assert time.monotonic() - began < 0.1
    assert runner.busy, "a flow finishing its card write must still count as running"
    began = time.monotonic()
    runner.start("second", second, lambda err: second_done.set(), on_wait=lambda: events.append("please wait"))
    assert time.monotonic() - began < 0.1
    assert second_done.wait(5) and first_done.is_set()
    assert events == ["please wait", "recorded written", "first done", "second started"]


def test_a_flow_waiting_for_the_previous_one_can_itself_be_cancelled(worker: DeviceWorker) -> None:
    import time

    release = threading.Event()
    started: list[str] = []
    second_done = threading.Event()

    def first(token: CancelToken) -> None:
        release.wait(5)          # still finishing, deaf to the cancel

    runner = FlowRunner()
    runner.start("first", first)
    runner.cancel("visit ended", join_s=0)
    runner.start("second", lambda token: started.append("second"), lambda err: second_done.set())
    with pytest.raises(RuntimeError):        # the waiting flow is the running one: no third beside it
        runner.start("third", lambda token: None)
    began = time.monotonic()
    runner.cancel("visit ended again", join_s=0)
    assert time.monotonic() - began < 0.1
    release.set()
    assert second_done.wait(5) and started == []


class _WriteCtx:
    """The two attributes FlowContext.card_write uses."""

    def __init__(self, token: CancelToken) -> None:
        self.token = token
