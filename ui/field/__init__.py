"""The field operator's screens (issue 8): sign-in / unlock, roster download and status, day
report, sync and conflicts, and a battery indicator for the status bar.

Every screen takes the core's :class:`kiosk.field.service.FieldKiosk` and nothing else, does the
slow parts (network, scrypt, PDF) on a worker thread, and shows results on the Qt thread. Wiring
(docs/field.md): build ``field = start_field(services)`` in the composition root, then add
``FieldScreens(field)`` pages to the main window's stack and show ``signin`` whenever
``field.gate`` is not ACTIVE (subscribe to ``field.gate`` and forward with a queued signal).
"""

from ui.field.battery import BatteryIndicator
from ui.field.report import DayReportScreen
from ui.field.roster import RosterScreen
from ui.field.signin import OperatorSignInScreen
from ui.field.sync import SyncConflictScreen

__all__ = ["BatteryIndicator", "DayReportScreen", "OperatorSignInScreen", "RosterScreen", "SyncConflictScreen"]
