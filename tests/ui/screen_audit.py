"""The screen audit of issue 19: what a citizen would call a broken screen, checked on the widgets
the screen really shows (offscreen or Xvfb): clipped text and size rules (shell_helpers.check_screen),
texts or buttons overlapping, a title that belongs to another step, raw or untranslated values."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from shell_helpers import check_screen

# Raw values that must never reach a citizen: enum values, dotted device names, ISO/UTC stamps.
RAW = [
    (re.compile(r"\b[a-z]+[A-Z][A-Za-z]+\b"), "a camelCase value"),
    (re.compile(r"\b[a-z]+\.[a-z]+\b"), "a dotted key"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}"), "an ISO timestamp"),
    (re.compile(r"\bUTC\b|\+00:00"), "a UTC time"),
    (re.compile(r"\b(?:None|True|False|null)\b"), "a Python/JSON value"),
    (re.compile(r"^[a-z_]+: "), "a raw 'name: value' line"),
]
ENGLISH_WORDS = re.compile(r"[A-Za-z]{3,}")
ALLOWED_ASCII_IN_ZH = {"English", "PIN", "SMS", "ID", "Enter", "PSAM"}

# One name per thing on the Chinese screens (a second name for the same thing is a finding).
ONE_NAME = [("芯片朝里", "芯片朝上")]


def _leaves(window: QWidget, overlay: QWidget | None = None) -> list[QWidget]:
    """Visible texts and buttons; with an overlay open, only its own (it covers the rest)."""
    out = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.window() is not window:
            continue
        if overlay is not None and overlay.isVisible() and not overlay.isAncestorOf(widget):
            continue
        if (isinstance(widget, QLabel) and widget.text().strip()) or isinstance(widget, QAbstractButton):
            out.append(widget)
    return out


def _rect(widget: QWidget, window: QWidget) -> QRect:
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())


def _overlaps(window: QWidget, name: str, overlay: QWidget | None = None) -> list[str]:
    leaves = _leaves(window, overlay)
    found = []
    for i, a in enumerate(leaves):
        ra = _rect(a, window)
        for b in leaves[i + 1:]:
            if a.isAncestorOf(b) or b.isAncestorOf(a):
                continue
            both = ra.intersected(_rect(b, window))
            if both.width() > 2 and both.height() > 2:
                found.append(f"{name}: {_label(a)!r} overlaps {_label(b)!r}")
    return found


def _label(widget: QWidget) -> str:
    return widget.text() if isinstance(widget, (QLabel, QAbstractButton)) else type(widget).__name__


def _texts(window: QWidget, overlay: QWidget | None = None) -> list[str]:
    return [_label(w) for w in _leaves(window, overlay) if _label(w)]


def audit(window: Any, name: str, language: str, overlay: QWidget | None = None) -> list[str]:
    """Every finding on the screen now (an empty list is a clean screen)."""
    findings: list[str] = []
    try:
        check_screen(window, name)
    except AssertionError as exc:
        findings.append(f"{name}: size/clipping {exc}")
    findings += _overlaps(window, name, overlay)
    for text in _texts(window, overlay):
        for pattern, what in RAW:
            if pattern.search(text):
                findings.append(f"{name}: {what} on screen: {text!r}")
        if language == "zh_CN":
            words = [w for w in ENGLISH_WORDS.findall(text) if w not in ALLOWED_ASCII_IN_ZH]
            if len(words) >= 2:
                findings.append(f"{name}: untranslated in Chinese mode: {text!r}")
            for wrong, right in ONE_NAME:
                if wrong in text:
                    findings.append(f"{name}: {wrong!r} where every other screen says {right!r}: {text!r}")
    findings += _stale_title(window, name)
    return findings


def _stale_title(window: Any, name: str) -> list[str]:
    if window.current_page != "step":
        return []
    step = window.step
    if step.showing_error:
        return [f"{name}: the step's title {step.title_label.text()!r} above an error"] \
            if step.title_label.isVisible() and step.title_label.text() else []
    body = step.body
    question = getattr(body, "question_label", None)
    if question is not None and body.isVisible() and not question.isVisible() \
            and question.text() != step.title_label.text():
        return [f"{name}: title {step.title_label.text()!r} above the question {question.text()!r} "
                f"(hidden={question.isHidden()}, body visible={body.isVisible()})"]
    return []
