"""What a service flow is given: the devices, the backend client, the store and the configuration.

Built once per flow run from the composition root's :class:`kiosk.app.KioskServices` with
:meth:`FlowDeps.from_services`. Everything is typed by its protocol; a part that did not start is
``None`` and the flow that needs it says so to the citizen (and to the operator in the log).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kiosk.config import KioskConfig
from kiosk.flows.templates import BackendTemplates, TemplateSource


@dataclass
class FlowDeps:
    config: KioskConfig
    card: Any = None                 # drivers.smartcard.api.CardService
    pinpad: Any = None               # drivers.pinpad.api.PinPadService
    camera: Any = None               # drivers.camera.api.Camera
    face: Any = None                 # models.verifier.FaceVerifier
    client: Any = None               # kiosk.backend_client.BackendClient
    store: Any = None                # kiosk.store.Store
    templates: TemplateSource | None = None   # default: the backend (BackendTemplates)
    operator_id: str | None = None   # field profile: the signed-in operator, written on records
    today: Callable[[], date] = field(default=date.today)
    identity: Any = None             # kiosk.identity.VisitIdentity the session established, if any

    def __post_init__(self) -> None:
        if self.templates is None and self.client is not None:
            self.templates = BackendTemplates(self.client)

    @classmethod
    def from_services(cls, services: Any, *, templates: TemplateSource | None = None,
                      operator_id: str | None = None) -> FlowDeps:
        sync = getattr(services, "sync", None)
        return cls(config=services.config, card=services.card, pinpad=services.pinpad, camera=services.camera,
                   face=services.face, client=getattr(sync, "client", None), store=getattr(sync, "store", None),
                   templates=templates, operator_id=operator_id,
                   identity=getattr(getattr(services, "session", None), "identity", None))


def face_policy(deps: FlowDeps) -> Any:
    """The FacePolicy from [face] (docs/face.md); a review capture only when a review key is known."""
    f = deps.config.face
    review_key = None
    if f.keep_capture_for_review and deps.store is not None:
        key = deps.store.review_key()
        review_key = key.raw if key is not None else None
    return f.policy(require_match=f.require_match, require_passive_liveness=f.passive_liveness,
                    keep_capture_for_review=review_key is not None, review_public_key=review_key)
