"""The roster as a :class:`kiosk.flows.templates.TemplateSource` for the flows' certification.

    from kiosk.flows.templates import BackendTemplates, FirstFound
    source = FirstFound([RosterTemplates(field.gate, field.vault), BackendTemplates(client)])

Roster first (works offline), then the backend (only online): so a person who is not on the roster
can be certified only with a network, as the field profile requires. ``done_state(id_number, ...)``
gives the roster's done mark as ``commit_result(state=...)`` entries, so a flow can write it in the
same transaction as its certification record.
"""

from __future__ import annotations

import time
from typing import Any

from kiosk.field.operators import OperatorGate, OperatorState
from kiosk.field.vault import DONE_NAMESPACE, RosterError, RosterVault
from kiosk.flows.templates import NoTemplate, TemplateAnswer, TemplateUnavailable


class RosterTemplates:
    def __init__(self, gate: OperatorGate, vault: RosterVault) -> None:
        self.gate = gate
        self.vault = vault

    def _roster(self) -> Any:
        if self.gate.state() is not OperatorState.ACTIVE:
            return None
        session = self.gate.session
        if session is None or session.roster is None:
            return None
        if self.vault.purge_if_expired():
            session.roster.wipe()
            session.roster = None
            return None
        return session.roster

    def template_for(self, id_number: str) -> TemplateAnswer:
        roster = self._roster()
        if roster is None:
            return TemplateUnavailable("roster locked, expired or not downloaded")
        entry = roster.get(id_number)
        if entry is None:
            return NoTemplate("not_on_roster")
        try:
            return entry.template()
        except RosterError:
            return NoTemplate("no_template")

    def name_for(self, id_number: str) -> str | None:
        roster = self._roster()
        entry = roster.get(id_number) if roster is not None else None
        return entry.name if entry is not None else None

    def done_state(self, id_number: str, *, result: str, operator_id: str) -> dict[tuple[str, str], Any]:
        """{(namespace, key): value} marking the person done, for ``store.commit_result(state=...)``;
        empty when the person is not on the open roster."""
        roster = self._roster()
        if roster is None or roster.get(id_number) is None:
            return {}
        return {(DONE_NAMESPACE, roster.done_key(id_number)): {"result": result, "at": time.time(),
                                                               "operator_id": operator_id}}
