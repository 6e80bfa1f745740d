from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.logs import current_visit_id
from kiosk.session import EndReason, EventKind, SessionCore, SessionEvent, VisitState


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def core(clock: FakeClock, tmp_path: Path) -> SessionCore:
    return SessionCore(idle_timeout_s=60, countdown_s=15, result_timeout_s=20, clock=clock,
                       marker_path=tmp_path / "visit.inprogress")


def _record(core: SessionCore) -> list[SessionEvent]:
    events: list[SessionEvent] = []
    core.subscribe(events.append)
    return events


def test_visit_walks_through_states(core: SessionCore) -> None:
    events = _record(core)
    core.start_visit("touch")
    core.choose_service("pin_change")
    core.enter_step("old_pin", 1, 3)
    core.show_result()
    core.end_visit(EndReason.FINISHED)
    states = [e.state for e in events if e.kind is EventKind.STATE]
    assert states == [VisitState.HOME, VisitState.SERVICE_CHOSEN, VisitState.STEP, VisitState.RESULT]
    assert events[-2].kind is EventKind.ENDED and events[-2].reason is EndReason.FINISHED
    assert events[-1].kind is EventKind.WIPED
    assert core.state is VisitState.IDLE and core.visit is None


def test_card_insert_starts_visit_and_removal_ends_it(core: SessionCore) -> None:
    events = _record(core)
    core.card_inserted()
    assert core.state is VisitState.CARD_PRESENT
    core.personal["name"] = "张三"
    core.card_removed()
    assert core.visit is None
    assert [e.reason for e in events if e.kind is EventKind.ENDED] == [EndReason.CARD_REMOVED]


def test_idle_countdown_then_timeout_wipes_personal_data(core: SessionCore, clock: FakeClock) -> None:
    events = _record(core)
    core.start_visit()
    personal = core.personal
    secret_bytes = bytearray(b"440106199001011234")
    personal["id_number_bytes"] = secret_bytes
    personal["name"] = "李四"
    personal["nested"] = {"phone": bytearray(b"13800138000")}
    clock.advance(59)
    assert core.tick() is None
    clock.advance(1)
    assert core.tick() == 15
    clock.advance(5)
    assert core.tick() == 10
    countdowns = [e.countdown for e in events if e.kind is EventKind.COUNTDOWN]
    assert countdowns == [15, 10]
    clock.advance(10)
    assert core.tick() == 0
    assert core.visit is None
    assert len(personal) == 0
    assert secret_bytes == bytearray(len(secret_bytes))  # zeroed, not just dropped
    assert [e.reason for e in events if e.kind is EventKind.ENDED] == [EndReason.TIMEOUT]


def test_touch_during_countdown_cancels_it(core: SessionCore, clock: FakeClock) -> None:
    events = _record(core)
    core.start_visit()
    clock.advance(65)
    assert core.tick() == 10
    core.touch()
    assert events[-1].kind is EventKind.COUNTDOWN_CLEARED
    clock.advance(30)
    assert core.tick() is None
    assert core.visit is not None


def test_result_screen_uses_its_own_timeout(core: SessionCore, clock: FakeClock) -> None:
    core.start_visit()
    core.show_result()
    clock.advance(21)
    assert core.tick() == 14


def test_personal_data_repr_shows_no_values(core: SessionCore) -> None:
    core.start_visit()
    core.personal["name"] = "王五"
    assert "王五" not in repr(core.personal)


def test_visit_id_is_on_log_context_only_during_visit(core: SessionCore) -> None:
    visit = core.start_visit()
    assert current_visit_id() == visit.id
    core.cancel()
    assert current_visit_id() is None


def test_end_listeners_see_the_visit_before_the_wipe(core: SessionCore) -> None:
    seen: list[tuple[str, EndReason, str | None, int]] = []
    core.on_visit_end(lambda vid, reason, service: seen.append((vid, reason, service, len(core.personal))))
    visit = core.start_visit()
    core.choose_service("certification")
    core.personal["name"] = "赵六"
    core.cancel()
    assert seen == [(visit.id, EndReason.CANCELED, "certification", 1)]


def test_crash_restart_closes_the_unfinished_visit(tmp_path: Path, clock: FakeClock) -> None:
    marker = tmp_path / "visit.inprogress"
    first = SessionCore(60, 15, clock=clock, marker_path=marker)
    visit = first.start_visit()
    assert marker.read_text() == visit.id
    # The process dies here: no end_visit. A new process starts:
    second = SessionCore(60, 15, clock=clock, marker_path=marker)
    ended: list[tuple[str, EndReason]] = []
    second.on_visit_end(lambda vid, reason, _service: ended.append((vid, reason)))
    assert second.recover_after_crash() == visit.id
    assert ended == [(visit.id, EndReason.CRASH_RESTART)]
    assert not marker.exists()
    assert second.recover_after_crash() is None


def test_marker_holds_no_personal_data(core: SessionCore, tmp_path: Path) -> None:
    core.start_visit()
    core.personal["name"] = "孙七"
    text = (tmp_path / "visit.inprogress").read_text()
    assert "孙七" not in text and len(text) == 36


def test_steps_require_a_visit(core: SessionCore) -> None:
    with pytest.raises(RuntimeError):
        core.enter_step("x", 1, 2)
