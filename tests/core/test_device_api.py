from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from drivers.api import (
    CommandContext,
    CompletionCode,
    DeviceError,
    DeviceEvent,
    DeviceStatus,
    DeviceWorker,
    StatusChanged,
)


@pytest.fixture
def worker() -> Iterator[DeviceWorker]:
    w = DeviceWorker("test-device", idle_interval=0.05)
    w.start()
    yield w
    w.stop()


class Tick(DeviceEvent):
    pass


def test_success_runs_on_the_worker_thread(worker: DeviceWorker) -> None:
    def body(ctx: CommandContext) -> str:
        worker.assert_on_worker()
        return threading.current_thread().name

    completion = worker.call("name", body, timeout=2)
    assert completion.ok and completion.result == "device-test-device"


def test_io_outside_the_worker_is_refused(worker: DeviceWorker) -> None:
    with pytest.raises(RuntimeError, match="outside its worker"):
        worker.assert_on_worker()


def test_commands_run_one_at_a_time_in_order(worker: DeviceWorker) -> None:
    order: list[int] = []
    active = threading.Semaphore(1)

    def make(i: int):
        def body(ctx: CommandContext) -> None:
            assert active.acquire(blocking=False), "two commands ran at once"
            try:
                time.sleep(0.01)
                order.append(i)
            finally:
                active.release()
        return body

    handles = [worker.submit(f"c{i}", make(i), timeout=2) for i in range(5)]
    assert all(h.wait(5).ok for h in handles)
    assert order == [0, 1, 2, 3, 4]


def test_device_error_becomes_typed_completion(worker: DeviceWorker) -> None:
    def body(ctx: CommandContext) -> None:
        raise DeviceError(CompletionCode.USER_ERROR, "card is blocked", "pinBlocked")

    completion = worker.call("verify", body, timeout=2)
    assert completion.code is CompletionCode.USER_ERROR
    assert completion.error_code == "pinBlocked"


def test_unexpected_exception_is_hardware_error_and_worker_survives(worker: DeviceWorker) -> None:
    completion = worker.call("boom", lambda ctx: 1 / 0, timeout=2)
    assert completion.code is CompletionCode.HARDWARE_ERROR
    assert worker.call("after", lambda ctx: 42, timeout=2).result == 42


def test_timeout_resolves_once_even_if_body_blocks(worker: DeviceWorker) -> None:
    release = threading.Event()
    completions = []

    def stuck(ctx: CommandContext) -> str:
        release.wait(2)  # blocking I/O that ignores the deadline
        return "late"

    handle = worker.submit("stuck", stuck, timeout=0.2)
    handle.add_done_callback(completions.append)
    completion = handle.wait(2)
    assert completion.code is CompletionCode.TIMEOUT
    release.set()
    assert worker.call("next", lambda ctx: "ok", timeout=2).result == "ok"
    assert len(completions) == 1 and completions[0].code is CompletionCode.TIMEOUT


def test_cooperative_timeout_via_check(worker: DeviceWorker) -> None:
    def loop(ctx: CommandContext) -> None:
        while True:
            ctx.wait(0.02)

    assert worker.call("loop", loop, timeout=0.2).code is CompletionCode.TIMEOUT


def test_cancel_running_command(worker: DeviceWorker) -> None:
    started = threading.Event()

    def loop(ctx: CommandContext) -> None:
        started.set()
        while True:
            ctx.wait(0.02)

    handle = worker.submit("entry", loop, timeout=10)
    assert started.wait(2)
    handle.cancel()
    assert handle.wait(2).code is CompletionCode.CANCELED


def test_cancel_queued_command_never_runs(worker: DeviceWorker) -> None:
    gate = threading.Event()
    ran: list[str] = []
    first = worker.submit("first", lambda ctx: gate.wait(2), timeout=5)
    second = worker.submit("second", lambda ctx: ran.append("second"), timeout=5)
    second.cancel()
    gate.set()
    assert first.wait(3).ok
    assert second.wait(3).code is CompletionCode.CANCELED
    assert ran == []


def test_events_reach_command_listener_and_subscribers(worker: DeviceWorker) -> None:
    seen_by_subscriber: list[DeviceEvent] = []
    worker.subscribe(seen_by_subscriber.append)
    seen_by_command: list[DeviceEvent] = []

    def body(ctx: CommandContext) -> None:
        ctx.emit(Tick("test-device"))
        ctx.emit(Tick("test-device"))

    handle = worker.submit("ticks", body, timeout=2).on_event(seen_by_command.append)
    assert handle.wait(3).ok
    assert len(seen_by_command) == 2 and len(seen_by_subscriber) == 2


def test_status_change_is_published_once(worker: DeviceWorker) -> None:
    seen: list[DeviceEvent] = []
    worker.subscribe(seen.append)
    worker.set_status(DeviceStatus.ONLINE)
    worker.set_status(DeviceStatus.ONLINE)
    worker.set_status(DeviceStatus.NO_MEDIA, "no card")
    changes = [e for e in seen if isinstance(e, StatusChanged)]
    assert [(c.old, c.new) for c in changes] == [(DeviceStatus.OFFLINE, DeviceStatus.ONLINE),
                                                 (DeviceStatus.ONLINE, DeviceStatus.NO_MEDIA)]


def test_stop_cancels_queued_commands() -> None:
    w = DeviceWorker("stopping", idle_interval=0.05)
    w.start()
    gate = threading.Event()
    w.submit("block", lambda ctx: gate.wait(0.5), timeout=5)
    queued = w.submit("queued", lambda ctx: "never", timeout=5)
    w.stop(timeout=2)
    assert queued.wait(2).code is CompletionCode.CANCELED
    assert w.submit("after-stop", lambda ctx: 1).wait(1).code is CompletionCode.CANCELED


def test_idle_task_runs_between_commands() -> None:
    ticks = threading.Event()
    w = DeviceWorker("idle", idle=ticks.set, idle_interval=0.02)
    w.start()
    try:
        assert ticks.wait(2)
    finally:
        w.stop()


def test_call_from_worker_thread_is_refused(worker: DeviceWorker) -> None:
    def body(ctx: CommandContext) -> None:
        worker.call("nested", lambda c: None)

    completion = worker.call("outer", body, timeout=2)
    assert completion.code is CompletionCode.HARDWARE_ERROR
