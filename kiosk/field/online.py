"""The field profile's online calls that the shared BackendClient does not have yet.

They go through the client's own signed-request plumbing (``BackendClient._call``), so they get
the same signatures, timeouts and typed failures as every other online operation.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def fetch_signing_key(client: Any) -> str | None:
    """The backend's operator-list signing key (base64 raw Ed25519), or None when unreachable."""
    data = client._call("GET", "/v1/keys/field-signing")
    if isinstance(data, dict) and isinstance(data.get("public_key"), str):
        return str(data["public_key"])
    log.warning("field signing key not fetched", extra={"answer": type(data).__name__})
    return None


def fetch_operator_list(client: Any) -> dict[str, Any] | None:
    data = client._call("GET", "/v1/field/operators")
    if isinstance(data, dict) and "operators" in data:
        return data
    log.warning("operator list not fetched", extra={"answer": type(data).__name__})
    return None
