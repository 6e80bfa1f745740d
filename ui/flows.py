"""The five citizen services for the shell: one FlowFactory per key of ui/services.py.

Each factory starts ``kiosk.flows.registry.start_service`` on the kiosk's FlowRunner with a
:class:`ui.presenter.QtPresenter`, and maps the end of the flow to the shell: a result stays on
screen (the citizen chooses home or finish); a final error's chosen next step goes home, ends the
visit (another card), or shows the counter / 12333 guidance. The visit ending (card pulled, idle
timeout, cancel, back home) stops the flow through ``stop()``.

On the field profile the deps come from ``field.flow_deps(services)``, which refuses (SignInError)
until an operator has signed in: the citizen then sees "an operator must sign in first".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.flows.base import NextStep
from kiosk.i18n import N_, _
from ui import dispatch
from ui.presenter import QtPresenter
from ui.services import SERVICES, SIGN_IN_SERVICES, FlowFactory
from ui.widgets.error_panel import GO_HOME, ErrorAction

if TYPE_CHECKING:
    from ui.host import FlowHost

log = logging.getLogger(__name__)

FLOW_CRASHED = N_("Sorry, something went wrong with this service.")
OPERATOR_FIRST = N_("A staff member must sign in on this kiosk before services can be used.")
ASK_STAFF = N_("Please ask the staff member with this kiosk for help.")
GO_TO_COUNTER = N_("Please go to the counter")
CALL_US = N_("Please call {hotline}")


class ServiceFlowRunner:
    """A ServiceFlow (ui/services.py) around one kiosk/flows service function."""

    def __init__(self, host: FlowHost, key: str, services: Any,
                 deps_for: Callable[[], Any], options: dict[str, Any] | None = None) -> None:
        self.host = host
        self.key = key
        self.services = services
        self.options = dict(options or {})      # e.g. id_number= for a roster pick (field profile)
        self._deps_for = deps_for
        self.presenter: QtPresenter | None = None
        self.outcome: Any = None

    def start(self) -> None:
        from kiosk.field.operators import SignInError
        from kiosk.flows.registry import start_service

        try:
            deps = self._deps_for()
        except SignInError:
            self.host.show_error(OPERATOR_FIRST, ASK_STAFF, [self.host.home_action()])
            return
        simulator = getattr(self.services, "pinpad_simulator", None)
        keypad = simulator.press if simulator is not None else None
        face = getattr(getattr(self.services, "config", None), "face", None)
        self.presenter = QtPresenter(self.host, camera=getattr(self.services, "camera", None), keypad=keypad,
                                     move_time_s=getattr(face, "challenge_step_timeout_s", 0.0))
        if self.services.flows.busy:        # a previous flow still finishing its card write
            self.services.flows.cancel("new service", join_s=0)
        token = start_service(self.services.flows, self.key, deps, self.presenter,
                              self._post_done, **self.options)
        self.presenter.token = token

    def stop(self) -> None:
        presenter, self.presenter = self.presenter, None
        if presenter is not None:
            presenter.close()
            self.services.flows.cancel("visit ended", join_s=0)

    def _post_done(self, outcome: Any, error: Any) -> None:
        """Flow thread: hand the end over to the UI thread. Through the application-wide dispatcher,
        not a QObject of this runner: the flow thread may drop the runner's last reference."""
        dispatch.post(lambda: self._finished(outcome, error))

    def _finished(self, outcome: Any, error: Any) -> None:
        if self.presenter is None or not dispatch.alive(self.host._window):   # stopped: the shell moved on
            return
        self.outcome = outcome
        if error is not None:
            self.host.show_error(FLOW_CRASHED, self.host.counter_text(),
                                 [self.host.home_action(), self.host.finish_action()])
            return
        if outcome is None:                  # the visit ended under it: the shell shows that
            return
        identity = getattr(outcome, "identity", None)
        if identity is not None:             # a sign-in (e-card): the session core takes it here
            self.host.session.identify(identity)
        step = outcome.next_step
        if step is None:                     # the result is on screen: the citizen chooses
            return
        if step is NextStep.HOME or step is NextStep.RETRY:
            self.host.go_home()
        elif step is NextStep.ANOTHER_CARD:
            self.host.finish()               # take this card out; the next visit starts fresh
        else:
            title = GO_TO_COUNTER if step is NextStep.COUNTER else (lambda: _(CALL_US).format(hotline=self.host.hotline))
            self.host.show_error(title, self.host.counter_text(),
                                 [ErrorAction(GO_HOME, self.host.go_home), self.host.finish_action()])


def flow_factories(services: Any, field: Any = None) -> dict[str, FlowFactory]:
    """service key -> factory for the shell; ``field``: the FieldKiosk on the field profile."""
    from kiosk.flows.deps import FlowDeps
    from kiosk.flows.registry import SERVICES as FLOW_SERVICES

    def deps_for() -> Any:
        if field is not None:
            return field.flow_deps(services)
        return FlowDeps.from_services(services)

    factories: dict[str, FlowFactory] = {}
    for spec in (*SERVICES, *SIGN_IN_SERVICES):
        if spec.key not in FLOW_SERVICES:
            continue
        factories[spec.key] = (lambda host, key=spec.key, **options: ServiceFlowRunner(host, key, services, deps_for,
                                                                                      options))
    return factories
