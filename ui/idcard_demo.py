"""Demo profile: the ID-card reader's column on the demo panel (place or lift the simulated cards).

Kept out of ui/demo.py: it adds one column to the panel's row of columns.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QPushButton, QSizePolicy, QVBoxLayout

from kiosk.i18n import N_, _
from ui.widgets.common import button, label

ID_CARDS = N_("ID card reader")
CARDS: dict[str, str] = {
    "normal": N_("ID card 李秀英 (retiree)"),
    "expired": N_("Expired ID card"),
    "foreign": N_("Foreign permanent resident card"),
    "removed_mid_read": N_("ID card lifted while read"),
    "remove": N_("Lift the ID card"),
}


def add_idcard_column(panel: Any, services: Any) -> dict[str, QPushButton]:
    """Insert the column after the social-security cards; returns its buttons by key."""
    simulator = getattr(services, "idcard_simulator", None)
    if simulator is None:
        return {}
    column = QVBoxLayout()
    title = label()
    column.addWidget(title)
    buttons: dict[str, QPushButton] = {}
    for key in CARDS:
        btn = button("secondary" if key == "remove" else "")
        btn.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        btn.clicked.connect(lambda _c=False, k=key: simulator.remove() if k == "remove" else simulator.place(k))
        column.addWidget(btn)
        buttons[key] = btn
    column.addStretch(1)
    row = panel.layout().itemAt(1).layout()       # DemoPanel: [top bar, row of columns]
    row.insertLayout(1, column, 0)

    def retranslate() -> None:
        title.setText(_(ID_CARDS))
        for key, msgid in CARDS.items():
            buttons[key].setText(_(msgid))

    retranslate()
    panel.opened.connect(retranslate)             # the language may have changed since
    panel.idcard_buttons = buttons
    return buttons
