"""The pad's retry and timeout settings must agree, or silence ends as the driver's watchdog
``timeOut`` after fewer tries than configured instead of ``noAnswer`` after all of them.

One exchange sends a command up to ``retries + 1`` times and waits ``answer_timeout_s`` for each
answer; the driver's per-command watchdog (``command_timeout_s``) must outlast all of that, plus
a margin for writing the frames and thread scheduling. Checked when the configuration loads
(kiosk/config/schema.py) and when the pad is created (factory.create_pinpad). No imports: the
configuration layer uses it too.
"""

from __future__ import annotations

MARGIN_S = 0.5


def needed_command_timeout(answer_timeout_s: float, retries: int) -> float:
    return (retries + 1) * answer_timeout_s + MARGIN_S


def timing_problem(command_timeout_s: float, answer_timeout_s: float, retries: int) -> str | None:
    """A sentence saying what is inconsistent, or None."""
    if retries < 0 or answer_timeout_s <= 0:
        return "expected retries >= 0 and answer_timeout_s > 0"
    needed = needed_command_timeout(answer_timeout_s, retries)
    if command_timeout_s < needed:
        return (f"command_timeout_s = {command_timeout_s:g} s is shorter than {retries + 1} tries x "
                f"answer_timeout_s {answer_timeout_s:g} s + {MARGIN_S:g} s = {needed:g} s: silence would end as "
                f"timeOut before the last try; raise command_timeout_s or lower retries / answer_timeout_s")
    return None
