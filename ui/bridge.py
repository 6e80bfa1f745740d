"""Device bridge: drivers call their listeners on device worker threads; the UI needs the main thread.

Every entry point here may be called from any thread. Each one emits a private signal whose
connection is explicitly *queued* to this object, which lives on the main thread; the private
slot then re-emits the public signal there. So a slot connected to a public signal always runs on
the UI thread, whatever thread the driver used, and never races widgets or the SessionCore.

Public signals (main thread):

* ``media_inserted(device: str)``, ``media_removed(device: str)`` — e.g. ``"smartcard.citizen"``
* ``status_changed(device: str, old: str, new: str)`` — :class:`drivers.api.DeviceStatus` values
* ``device_event(event: object)`` — every :class:`drivers.api.DeviceEvent` (also the three above)
* ``completed(token: object, completion: object)`` — a command's :class:`drivers.api.Completion`
* ``frame(device: str, image: QImage)`` — camera preview (comes with the face work)

Images: a ``QImage`` built over a numpy buffer only *borrows* that memory; the camera thread
reuses or frees it. :func:`qimage_from_array` therefore copies (``QImage.copy()``) before the
image crosses threads. Call it on the worker thread and pass the result to :meth:`post_frame`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QImage

from drivers.api import CommandHandle, Completion, DeviceEvent, MediaInserted, MediaRemoved, StatusChanged
from ui.qt_compat import emit

log = logging.getLogger(__name__)

CITIZEN_CARD_READER = "smartcard.citizen"


class Subscribable(Protocol):
    """What the bridge needs from a device: :class:`drivers.api.DeviceWorker` has it."""

    def subscribe(self, listener: Callable[[DeviceEvent], None]) -> Callable[[], None]: ...


class DeviceBridge(QObject):
    media_inserted = Signal(str)
    media_removed = Signal(str)
    status_changed = Signal(str, str, str)
    device_event = Signal(object)
    completed = Signal(object, object)
    frame = Signal(str, QImage)

    _event_posted = Signal(object)
    _completion_posted = Signal(object, object)
    _frame_posted = Signal(str, QImage)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._devices: dict[str, Subscribable] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        queued = Qt.ConnectionType.QueuedConnection
        self._event_posted.connect(self._on_event, queued)
        self._completion_posted.connect(self._on_completion, queued)
        self._frame_posted.connect(self._on_frame, queued)

    # -- wiring (main thread, at start-up) ---------------------------------------------------------
    def attach(self, name: str, device: Subscribable) -> None:
        """Listen to a device's unsolicited events; ``name`` is how the shell asks for it."""
        self._devices[name] = device
        self._unsubscribe.append(device.subscribe(self.post_event))

    def has(self, name: str) -> bool:
        return name in self._devices

    def device(self, name: str) -> Subscribable:
        return self._devices[name]

    @property
    def names(self) -> Iterable[str]:
        return tuple(self._devices)

    def detach_all(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._devices.clear()

    # -- any thread -----------------------------------------------------------------------------------
    def post_event(self, event: DeviceEvent) -> None:
        """A driver listener: safe to call on the device's worker thread."""
        emit(self._event_posted, event)

    def post_completion(self, token: object, completion: Completion[Any]) -> None:
        emit(self._completion_posted, token, completion)

    def watch(self, handle: CommandHandle[Any], token: object | None = None) -> CommandHandle[Any]:
        """Deliver ``handle``'s completion as ``completed(token, completion)`` on the UI thread,
        and its command events through ``device_event``. ``token`` defaults to the handle."""
        handle.on_event(self.post_event)
        handle.add_done_callback(lambda completion: self.post_completion(token or handle, completion))
        return handle

    def post_frame(self, device: str, image: QImage) -> None:
        """``image`` must own its pixels (see :func:`qimage_from_array`)."""
        emit(self._frame_posted, device, image)

    # -- main thread ----------------------------------------------------------------------------------
    @Slot(object)
    def _on_event(self, event: DeviceEvent) -> None:
        if isinstance(event, MediaInserted):
            emit(self.media_inserted, event.device)
        elif isinstance(event, MediaRemoved):
            emit(self.media_removed, event.device)
        elif isinstance(event, StatusChanged):
            emit(self.status_changed, event.device, event.old.value, event.new.value)
        emit(self.device_event, event)

    @Slot(object, object)
    def _on_completion(self, token: object, completion: Completion[Any]) -> None:
        emit(self.completed, token, completion)

    @Slot(str, QImage)
    def _on_frame(self, device: str, image: QImage) -> None:
        emit(self.frame, device, image)


def qimage_from_array(array: np.ndarray) -> QImage:
    """An owning QImage from an HxWx3 (RGB) or HxW (grey) uint8 array: safe to send across threads."""
    if array.dtype != np.uint8:
        raise TypeError(f"expected a uint8 image, got {array.dtype}")
    data = np.ascontiguousarray(array)
    if data.ndim == 3 and data.shape[2] == 3:
        height, width, _ = data.shape
        fmt = QImage.Format.Format_RGB888
    elif data.ndim == 2:
        height, width = data.shape
        fmt = QImage.Format.Format_Grayscale8
    else:
        raise ValueError(f"expected HxWx3 or HxW, got shape {array.shape}")
    borrowed = QImage(data.data, width, height, data.strides[0], fmt)
    return borrowed.copy()      # deep copy: the numpy buffer may be reused as soon as we return
