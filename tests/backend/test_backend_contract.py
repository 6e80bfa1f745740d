"""The published OpenAPI contract holds: schemathesis (examples, coverage, fuzzing and stateful
phases, every check) against the real backend on PostgreSQL, with kiosk request signing.

A signing proxy (an ASGI wrapper, as a kiosk's HTTP layer would be) signs each request that
carries the placeholder signature with the enrolled test kiosk's real key, over the exact
method, target and body sent; a request without it reaches the backend unsigned, so the
"ignored auth" check sees the real 401. Bounded to a few examples per operation and phase so the
module runs in about a minute on 2 cores.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
import hypothesis.stateful
import pytest
import schemathesis
from backend_kit import OPERATOR_TOKEN, SigningKiosk, make_config, seed_data
from fastapi.testclient import TestClient
from pgfixture import PgCluster, pg_cluster  # noqa: F401  (session fixture)
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode

from backend.app import create_app
from backend.crypto import sign_request
from backend.seed import apply_seed
from backend.server import prepare

PLACEHOLDER = "sign-me"
KIOSK_ID = "contract-kiosk-01"
AUTH = {"X-Kiosk-Id": KIOSK_ID, "X-Kiosk-Timestamp": PLACEHOLDER, "X-Kiosk-Signature": PLACEHOLDER,
        "Authorization": f"Bearer {OPERATOR_TOKEN}"}


class SigningProxy:
    """Signs requests that carry the placeholder, with the kiosk's key, over what is really sent."""

    def __init__(self, app: Any, kiosk: SigningKiosk) -> None:
        self.app = app
        self.kiosk = kiosk
        self._ticks = itertools.count()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        placeholders = {(b"x-kiosk-timestamp", PLACEHOLDER.encode()), (b"x-kiosk-signature", PLACEHOLDER.encode())}
        if scope["type"] != "http" or not placeholders <= set(scope["headers"]) \
                or not any(k == b"x-kiosk-id" for k, _v in scope["headers"]):
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        stamp = (datetime.now(UTC) + timedelta(microseconds=next(self._ticks))).isoformat().replace("+00:00", "Z")
        signed = sign_request(self.kiosk.key, KIOSK_ID, scope["method"], target.decode("latin-1"), stamp, body)
        headers = [(k, v) for k, v in scope["headers"] if not k.startswith(b"x-kiosk-")]
        headers += [(k.lower().encode(), v.encode()) for k, v in signed.items()]
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app({**scope, "headers": headers}, replay, send)


@pytest.fixture(scope="module")
def api_schema(pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:  # noqa: F811
    dsn = pg_cluster.create_database("contract")
    services = prepare(make_config(dsn, tmp_path_factory.mktemp("contract")), create_review_key=True)
    apply_seed(services.engine, seed_data())
    app = create_app(services)
    kiosk = SigningKiosk(KIOSK_ID, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    with TestClient(app) as client:
        token = client.post("/v1/operator/enrollment-tokens", json={"kiosk_id": KIOSK_ID, "role": "field"},
                            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}).json()["token"]
        enrolled = client.post("/v1/kiosks/enroll", json={"kiosk_id": KIOSK_ID, "public_key": kiosk.public_key_b64,
                                                          "token": token})
        assert enrolled.status_code == 201, enrolled.text
    schema = schemathesis.openapi.from_asgi("/openapi.json", SigningProxy(app, kiosk), config=CONFIG)
    yield schema
    services.engine.dispose()


# Every relaxation, with its reason (nothing else is suppressed):
CONFIG = SchemathesisConfig.from_dict({
    "seed": 17,
    # PostgreSQL text cannot hold NUL: every string field refuses it with a named 422, which JSON
    # Schema cannot say for every string. test_backend_poison.py tests those refusals one by one.
    "generation": {"allow-x00": False},
    "operations": [{
        # A batch's records have rules no JSON Schema expresses (the same id twice in one batch,
        # a certification needs payload.id_number, at most 1 MB per record, nesting depth): the
        # backend refuses such a schema-valid batch with a 422 naming the record and field.
        "include-path": "/v1/records:batch",
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "409", "413", "422"]},
                   # More records than ingest.max_batch is 413 batch_too_large, not 422: the kiosk
                   # halves a batch on 413 (docs/sync.md), so that status is the contract.
                   "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "409", "413", "422"]}},
    }],
})

schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis.settings(max_examples=8, deadline=None, derandomize=True,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_every_operation_keeps_the_contract(case: Any) -> None:
    case.call_and_validate(headers=_credentials(case))


def _credentials(case: Any) -> dict[str, str]:
    """The kiosk's and the operator's credentials, unless this case deliberately broke the headers
    (a negative case over them must reach the backend as generated)."""
    header = case.meta.components.get(ParameterLocation.HEADER) if case.meta is not None else None
    if header is not None and header.mode == GenerationMode.NEGATIVE:
        return {}
    return AUTH


def test_openapi_declares_security_and_refusals(api_schema: Any) -> None:
    raw = api_schema.raw_schema
    schemes = raw["components"]["securitySchemes"]
    assert {"kioskId", "kioskTimestamp", "kioskSignature", "operatorToken"} <= set(schemes)
    summary = raw["paths"]["/v1/persons/{id_number}/summary"]["get"]
    assert summary["security"] == [{"kioskId": [], "kioskTimestamp": [], "kioskSignature": []}]
    assert {"401", "413", "422", "503"} <= set(summary["responses"])
    assert raw["paths"]["/v1/operator/records"]["get"]["security"] == [{"operatorToken": []}]
    assert raw["paths"]["/v1/health"]["get"]["security"] == []


def test_stateful_phase_follows_links_between_operations(api_schema: Any) -> None:
    """The stateful phase: sequences of calls linked by the responses (inferred links)."""
    base = api_schema.as_state_machine()

    class Workflow(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": _credentials(case)}

    hypothesis.stateful.run_state_machine_as_test(Workflow, settings=hypothesis.settings(
        max_examples=6, stateful_step_count=4, deadline=None, derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck)))
