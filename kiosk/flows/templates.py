"""Where a flow gets the enrolled face template of a person: the seam between flows and sources.

The retiree certification and the PIN reset compare a live face with the person's enrolled
template. Online, that template comes from the backend (:class:`BackendTemplates`); in the field
profile it comes from the kiosk's encrypted roster, which kiosk/field/ plugs in by implementing
:class:`TemplateSource`. :class:`FirstFound` asks several sources in order (roster, then backend).

Contract for implementers:

* ``template_for(id_number)`` never raises for an expected problem: it returns a
  :class:`models.template.FaceTemplate` (the caller owns it and wipes it after use), or
  :class:`NoTemplate` (this source knows there is none: go to the counter), or
  :class:`TemplateUnavailable` (this source cannot answer now: network down, roster locked).
* It runs on the flow thread and may block for a network round trip (bounded by its timeouts).
* Nothing biometric is logged; the ID number only masked.

:class:`PersonDirectory` is optional: a source that also knows people's names (the roster) lets
the no-card certification confirm the name while offline.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from models.template import FaceTemplate

log = logging.getLogger(__name__)

TEMPLATE_BYTES = 128 * 4          # SFace: float32[128]


@dataclass(frozen=True)
class NoTemplate:
    """The source knows this person has no enrolled template (or does not know the person)."""

    reason: str = "no_template"   # "no_template" | "unknown_person" | a source's own short code


@dataclass(frozen=True)
class TemplateUnavailable:
    """The source cannot answer now (backend unreachable, roster locked or expired)."""

    detail: str = ""              # technical, for the log; no personal data


TemplateAnswer = FaceTemplate | NoTemplate | TemplateUnavailable


@runtime_checkable
class TemplateSource(Protocol):
    """Gives the enrolled face template for an ID number (see the module docstring)."""

    def template_for(self, id_number: str) -> TemplateAnswer: ...


@runtime_checkable
class PersonDirectory(Protocol):
    """Optional: the person's name as the source knows it, for the no-card name confirmation."""

    def name_for(self, id_number: str) -> str | None: ...


class BackendTemplates:
    """The online source: ``GET /v1/persons/{id}/face-template`` through kiosk.backend_client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def template_for(self, id_number: str) -> TemplateAnswer:
        from kiosk.backend_client import FaceTemplate as TemplateAnswerData
        from kiosk.backend_client import NotFound

        answer = self.client.face_template(id_number)
        if isinstance(answer, NotFound):
            return NoTemplate(answer.error or "no_template")
        if not isinstance(answer, TemplateAnswerData):
            return TemplateUnavailable(getattr(answer, "reason", type(answer).__name__))
        return decode_template(answer.data.get("template"), source="backend")


def decode_template(b64: object, source: str) -> TemplateAnswer:
    """A base64 float32[128] template, or TemplateUnavailable when it is not one."""
    if not isinstance(b64, str):
        return TemplateUnavailable("template missing in the answer")
    try:
        raw = bytearray(base64.b64decode(b64, validate=True))
    except (binascii.Error, ValueError):
        return TemplateUnavailable("template is not base64")
    try:
        if len(raw) != TEMPLATE_BYTES:
            return TemplateUnavailable(f"template has {len(raw)} bytes, expected {TEMPLATE_BYTES}")
        return FaceTemplate.from_bytes(raw, source=source)
    finally:
        raw[:] = bytes(len(raw))


class FirstFound:
    """Ask each source in order; the first template wins. ``NoTemplate`` from one source does not
    stop the search (the roster may lack a person the backend knows); if none has a template, the
    answer is TemplateUnavailable when any source could not answer, else the last NoTemplate."""

    def __init__(self, sources: Sequence[TemplateSource]) -> None:
        self.sources = list(sources)

    def template_for(self, id_number: str) -> TemplateAnswer:
        missing: NoTemplate | None = None
        unavailable: TemplateUnavailable | None = None
        for source in self.sources:
            answer = source.template_for(id_number)
            if isinstance(answer, FaceTemplate):
                return answer
            if isinstance(answer, NoTemplate):
                missing = answer
            else:
                unavailable = answer
        return unavailable or missing or NoTemplate()

    def name_for(self, id_number: str) -> str | None:
        for source in self.sources:
            if isinstance(source, PersonDirectory):
                name = source.name_for(id_number)
                if name:
                    return name
        return None
