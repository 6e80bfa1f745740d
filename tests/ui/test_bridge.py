"""The device bridge: worker-thread callbacks arrive as signals on the UI thread; frames are copied."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtGui import QColor

from drivers.api import (
    CommandContext,
    CompletionCode,
    DeviceError,
    DeviceStatus,
    DeviceWorker,
    MediaInserted,
    MediaRemoved,
)
from ui.bridge import DeviceBridge, qimage_from_array


def test_events_from_a_device_thread_arrive_on_the_ui_thread(qtbot):
    worker = DeviceWorker("smartcard.citizen")
    bridge = DeviceBridge()
    bridge.attach("smartcard.citizen", worker)
    seen: list[tuple[str, str, bool]] = []
    main = threading.main_thread()
    bridge.media_inserted.connect(lambda d: seen.append(("in", d, threading.current_thread() is main)))
    bridge.media_removed.connect(lambda d: seen.append(("out", d, threading.current_thread() is main)))
    bridge.status_changed.connect(lambda d, o, n: seen.append((f"{o}->{n}", d, threading.current_thread() is main)))
    worker.start()
    try:
        def body(ctx: CommandContext) -> None:
            worker.set_status(DeviceStatus.ONLINE)
            worker.publish(MediaInserted("smartcard.citizen"))
            worker.publish(MediaRemoved("smartcard.citizen"))

        assert worker.call("cycle", body, timeout=5).ok
        qtbot.waitUntil(lambda: len(seen) == 3, timeout=3000)
    finally:
        worker.stop()
    assert seen == [("offline->online", "smartcard.citizen", True), ("in", "smartcard.citizen", True),
                    ("out", "smartcard.citizen", True)]
    assert bridge.has("smartcard.citizen") and not bridge.has("pinpad")
    bridge.detach_all()
    assert not bridge.has("smartcard.citizen")


def test_watch_delivers_completion_on_the_ui_thread(qtbot):
    worker = DeviceWorker("pinpad")
    bridge = DeviceBridge()
    worker.start()
    got = []
    bridge.completed.connect(lambda token, c: got.append((token, c, threading.current_thread() is threading.main_thread())))
    try:
        def fails(ctx: CommandContext) -> None:
            raise DeviceError(CompletionCode.USER_ERROR, "key jammed", error_code="keyJammed")

        bridge.watch(worker.submit("getPin", fails, timeout=5), token="pin-step")
        qtbot.waitUntil(lambda: bool(got), timeout=3000)
    finally:
        worker.stop()
    token, completion, on_main = got[0]
    assert token == "pin-step" and on_main
    assert completion.code is CompletionCode.USER_ERROR and completion.error_code == "keyJammed"


def test_qimage_from_array_owns_its_pixels():
    frame = np.zeros((4, 6, 3), dtype=np.uint8)
    frame[..., 0] = 200
    image = qimage_from_array(frame)
    frame[...] = 7                              # the camera thread reuses its buffer
    assert (image.width(), image.height()) == (6, 4)
    assert image.pixelColor(2, 1) == QColor(200, 0, 0)
    grey = qimage_from_array(np.full((3, 5), 99, dtype=np.uint8))
    assert grey.pixelColor(0, 0).red() == 99
