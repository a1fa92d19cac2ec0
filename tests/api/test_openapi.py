"""The whole /api/v1 against its own OpenAPI document, with schemathesis: no 500, and every
response (status, content type, body) as documented. Bounded: a few examples per operation."""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from service import create_app
from service.auth import new_api_token
from service.extensions import db
from service.input_guard import UNSTORABLE, has_visible_text
from tests.conftest import _base_settings


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the document, read once at collection from an app
    of its own (building the document touches no database)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(_base_settings(f"sqlite:///{folder}/spec.db"))
        document = app.test_client().get("/api/v1/openapi.json").get_json()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


# Which staff member's token each part of the API gets.
TOKEN_OWNER = {"/api/v1/analytics": "hr", "/api/v1/cases": "lead"}


@pytest.fixture
def tokens(org):  # type: ignore[no-untyped-def]
    made = {prefix: new_api_token(org.staff[owner]) for prefix, owner in TOKEN_OWNER.items()}
    db.session.commit()
    return made


def test_the_document_and_its_viewer_are_served(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/analytics/risk",
        "/api/v1/analytics/summary",
        "/api/v1/analytics/hotspots",
    ):
        operation = spec["paths"][path]["get"]
        assert operation["security"] == [{"bearer": []}]
        assert {"200", "401", "403", "422"} <= set(operation["responses"])
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/redoc.standalone.js" in page
    bundle = client.get("/static/vendor/redoc.standalone.js")
    assert bundle.status_code == 200 and b"Redoc" in bundle.data[:5000]
    bundle.close()


@pytest.mark.parametrize(("method", "path"), _operations())
def test_api_conforms_to_its_schema(method, path, app, org, tokens):  # type: ignore[no-untyped-def]
    # Loaded per test from the test's own app (schemathesis' lazy fixture loader does not work
    # with pytest 9), so every request, including the extra ones some checks make, goes there.
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]
    headers = {}
    for prefix, token in tokens.items():
        if path.startswith(prefix):
            headers["Authorization"] = f"Bearer {token}"

    strategy = operation.as_strategy()
    real_unit = org.unit("Call Centre")

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples every run: a failure is reproducible
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):  # type: ignore[no-untyped-def]
        # Rules no OpenAPI 3.0 schema can state, kept by the generated reports so the rest of
        # the body is what gets tested (each rule has its own tests, in tests/intake and
        # tests/security/test_odd_characters.py): which org unit ids exist, "raised with" only
        # when it was raised before, no NUL or unpaired surrogate, and text that shows something.
        body = case.body
        if isinstance(body, dict):
            for name, value in body.items():
                if isinstance(value, str):
                    value = UNSTORABLE.sub("", value)
                    if value and not has_visible_text(value):
                        value = value[:-1] + "x"
                    body[name] = value
        if isinstance(body, dict) and type(body.get("org_unit")) is int:
            if 1 <= body["org_unit"] < 2**31:
                body["org_unit"] = real_unit
            if body.get("raised_before") is False:
                body.pop("raised_with", None)
        # And for the analytics: 'from' on or before 'to' (tests/analytics checks the refusal).
        query = case.query
        backwards = (
            isinstance(query, dict)
            and isinstance(query.get("from"), str)
            and isinstance(query.get("to"), str)
            and query["from"] > query["to"]
        )
        if backwards:
            query["from"], query["to"] = query["to"], query["from"]
        case.call_and_validate(headers=headers)

    check()
