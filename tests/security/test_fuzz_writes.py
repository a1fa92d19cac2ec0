"""Every write endpoint and form, driven with arbitrary Unicode as every role: never a 5xx,
and a refusal never leaves anything half-written.

The routes come from `app.url_map` (every POST, PUT, PATCH and DELETE), so a new endpoint is
fuzzed as soon as it exists; the valid body each one starts from is the access matrix's
(tests/security/test_access_matrix.py, which already fails for a route it lacks). Each
example takes that body and puts a hostile value (unpaired surrogates, NULs, control and
zero-width characters, huge numbers, anything Hypothesis finds) in one field, or in a field
name of its own, and sends it as one of the roles.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from service.db import Base
from service.extensions import db
from tests.conftest import make_app
from tests.security.test_access_matrix import MATRIX, ROLES, STAFF, Clients, Ctx, _Lookup

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Write routes today: the floor keeps the test from quietly fuzzing fewer.
MIN_WRITE_ROUTES = 32
EXAMPLES_PER_FIELD = 4

surrogates = st.integers(0xD800, 0xDFFF).map(chr)
hostile_text = st.one_of(
    st.lists(st.one_of(st.characters(), surrogates), max_size=40).map("".join),
    st.text(max_size=40),
    st.sampled_from(
        [
            "\ud800",
            "\x00",
            "a\x00b",
            "\u200b" * 30,
            "\u202e\u2066\ufeff",
            "\x01\x02\x7f",
            " " * 12,
            "99999999999",
            "2147483648",
            "-1",
            "0",
            "x" * 6000,
            "password1234",
        ]
    ),
)
hostile_json = st.one_of(
    hostile_text,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.none(),
    st.booleans(),
    st.lists(hostile_text, max_size=3),
)


@pytest.fixture
def app(settings):  # type: ignore[no-untyped-def]
    """As the access matrix's: no CSRF tokens to fetch, no rate limits in the way."""
    fuzz_app = make_app(settings.replace(rate_limits_enabled=False))
    fuzz_app.config["WTF_CSRF_ENABLED"] = False
    with fuzz_app.app_context():
        yield fuzz_app


def write_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) & WRITE_METHODS
    )


# What a refused request must leave as it was: every table's row count (the audit log aside:
# a refusal may be audited), and the fields the admin forms edit.
WATCHED_COLUMNS = {
    "users": ("id", "email", "name", "role", "org_unit_id", "active", "capacity", "password_hash"),
    "org_units": ("id", "name", "parent_id", "headcount", "retired_at", "is_hr"),
    "cases": ("id", "status", "assignee_id", "outcome"),
}


def snapshot() -> tuple[Any, ...]:
    db.session.rollback()
    tables = Base.metadata.sorted_tables
    counts = tuple(
        (t.name, db.session.scalar(select(func.count()).select_from(t)))
        for t in tables
        if t.name != "audit_events"
    )
    by_name = {t.name: t for t in tables}
    rows = tuple(
        tuple(
            db.session.execute(
                select(*(by_name[name].c[c] for c in columns)).order_by(by_name[name].c.id)
            ).all()
        )
        for name, columns in WATCHED_COLUMNS.items()
    )
    return counts, rows


def prepare(clients: Clients, ctx: Ctx, role: str, call):  # type: ignore[no-untyped-def]
    """Path, client and headers, made before the snapshot: the case, token or sign-in they
    may create first is the test's setup, not the request's doing."""
    path = call.path.format_map(_Lookup(ctx))
    headers: dict[str, str] = {}
    if path.startswith("/api/"):
        client = clients.app.test_client()
        if role in STAFF:
            headers["Authorization"] = f"Bearer {clients.token(role)}"
        elif role == "reporter":
            headers["X-Receipt"] = ctx.receipt
    else:
        client = clients.web(role)
    return path, client, headers


def send(client, path: str, headers, method: str, body, as_json: bool):  # type: ignore[no-untyped-def]
    if as_json:
        return client.open(path, method=method, json=body, headers=headers)
    # Encoded by hand: a browser cannot send a surrogate, but a client can send its bytes.
    data = urlencode(body, doseq=True, encoding="utf-8", errors="surrogatepass")
    return client.open(
        path,
        method=method,
        data=data,
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def succeeds(expected: object) -> bool:
    status = getattr(expected, "to", None)
    if status is not None:  # a redirect: success unless it is to the sign-in page
        return not str(status).startswith("/login")
    return isinstance(expected, int) and expected < 400


def mixed(original: Any, hostile: Any, how: str) -> Any:
    """The hostile value alone, or inside the valid one (so it passes length and choice
    checks and reaches storage)."""
    if how == "replace":
        return hostile
    if isinstance(original, list):
        return [*original, hostile]
    if isinstance(original, str) and isinstance(hostile, str):
        return original + hostile if how == "append" else hostile + original
    return hostile


def fuzz(clients: Clients, contexts: dict[str, Ctx], method: str, rule: str) -> int:
    """Each field of the route's valid body in turn, and a field of its own."""
    call = MATRIX[(method, rule)]
    as_json = call.json is not None
    builder = call.json or call.form
    fields = [*sorted(builder(contexts["admin"]) if builder else {}), None]
    allowed = [role for role in ROLES if succeeds(call.expect[role])] or list(ROLES)
    answered: list[int] = []

    @settings(
        max_examples=EXAMPLES_PER_FIELD,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        role=st.one_of(st.sampled_from(allowed), st.sampled_from(ROLES)),
        how=st.sampled_from(["replace", "append", "prepend"]),
        data=st.data(),
    )
    def example(field: str | None, role: str, how: str, data: st.DataObject) -> None:
        ctx = contexts[role]
        body = dict(builder(ctx)) if builder else {}
        if field is None:  # a field name of its own
            field = data.draw(hostile_text, label="name")
        hostile = data.draw(hostile_json if as_json else hostile_text, label="value")
        body[field] = mixed(body.get(field), hostile, how)
        path, client, headers = prepare(clients, ctx, role, call)
        before = snapshot()
        response = send(client, path, headers, method, body, as_json)
        status = response.status_code
        answered.append(status)
        assert status < 500, f"{method} {rule} as {role}: {status} for {field!r}"
        if 400 <= status < 500:
            assert snapshot() == before, f"{method} {rule} as {role}: {status} but data changed"

    for field in fields:
        example(field=field)
    return len(answered)


def test_every_write_route_survives_hostile_input(app, org):
    routes = write_routes(app)
    assert len(routes) >= MIN_WRITE_ROUTES, routes
    unknown = [route for route in routes if route not in MATRIX]
    assert not unknown, f"write routes without a valid body in the access matrix: {unknown}"
    clients = Clients(app, org)
    contexts = {role: Ctx(org, role) for role in ROLES}
    exercised = {route: fuzz(clients, contexts, *route) for route in routes}
    assert all(count >= EXAMPLES_PER_FIELD for count in exercised.values()), exercised
    assert len(exercised) >= MIN_WRITE_ROUTES
