"""The access matrix: every endpoint in `app.url_map` (each method but HEAD/OPTIONS) times every
role, with the exact answer each role must get, all from the one table `MATRIX` below. Each
request carries a valid body, so an allowed role really succeeds (not just gets past the
check), and each role works on fresh state (its own case and receipt). A route without an
entry, or an entry without a route, fails `test_every_route_has_an_entry`. To add an endpoint:
add `(METHOD, rule exactly as in app.url_map): Call(path, expected, form=/json=)` to `MATRIX`,
with `expected` built by `everyone`, `staff_page`, `api` or `receipt_holder`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.auth import new_api_token
from service.cases.service import guide_for, transition
from service.db import ApiToken, Case, OrgUnit, User, utcnow
from service.extensions import db
from service.vocab import CATEGORIES
from tests.cases.support import assign, signed_in, submit
from tests.conftest import make_app
from tests.factories import PASSWORD, Org, report_payload

ROLES = ("anonymous", "reporter", "trust_leader", "other_leader", "lead", "hr_analyst", "admin")
# The demo account behind each staff role; the case used is assigned to `leader`.
STAFF = {
    "trust_leader": "leader",
    "other_leader": "leader2",
    "lead": "lead",
    "hr_analyst": "hr",
    "admin": "admin",
}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Redirect:
    """A 302 whose Location path starts with `to`."""

    to: str

    def __str__(self) -> str:
        return f"302->{self.to}"


TO_LOGIN = Redirect("/login")
TO_CASE = Redirect("/cases/")  # back to the case page after a form
CASE_WORKERS = ("trust_leader", "other_leader", "lead")
Expected = int | Redirect  # a plain 302 means a redirect anywhere *but* /login


def everyone(status: Expected) -> dict[str, Expected]:
    return dict.fromkeys(ROLES, status)


def staff_page(**allowed: Expected) -> dict[str, Expected]:
    """A page behind sign-in: signed out -> /login, a staff role not listed -> 403."""
    return {"anonymous": TO_LOGIN, "reporter": TO_LOGIN, **dict.fromkeys(STAFF, 403), **allowed}


def api(**allowed: Expected) -> dict[str, Expected]:
    """A bearer-token endpoint: no token -> 401, a role not listed -> 403."""
    return {"anonymous": 401, "reporter": 401, **dict.fromkeys(STAFF, 403), **allowed}


def receipt_holder(status: Expected) -> dict[str, Expected]:
    """A reporter endpoint: only the receipt finds the report; without it, 404 for anyone."""
    return {**everyone(404), "reporter": status}


def case_worker(status: Expected, lead: Expected) -> dict[str, Expected]:
    """A case's own page or API: its Trust Leader, and leads as `lead` (they read every case,
    reassign, but never work someone else's case)."""
    return {"trust_leader": status, "lead": lead}


# --- the per-role state a request is built from -----------------------------------------------


class Ctx:
    """Fresh state for one role's request; everything is made on first use."""

    def __init__(self, org: Org, role: str) -> None:
        self.org = org
        self.role = role

    @cached_property
    def _case(self) -> tuple[int, str]:
        case, receipt = submit(self.org)
        assign(case, self.org.staff["leader"])
        return case.id, receipt

    @property
    def case_id(self) -> int:
        """A fresh case, assigned to `leader` (the trust_leader role)."""
        return self._case[0]

    @property
    def receipt(self) -> str:
        return self._case[1]

    @property
    def held_receipt(self) -> str:
        """The receipt code this role holds: the case's for the reporter, none for the others."""
        return self.receipt if self.role == "reporter" else ""

    @cached_property
    def step(self) -> str:
        guide = guide_for(db.session.get(Case, self.case_id))
        assert guide is not None
        return min(guide.step_keys())

    @cached_property
    def withdrawn_case_id(self) -> int:
        """A fresh case assigned to `leader`, which its Trust Leader marked as withdrawn."""
        case = db.session.get(Case, self.case_id)
        transition(self.org.staff["leader"], case, "withdrawn")
        db.session.commit()
        return case.id

    @property
    def feedback_due_later(self) -> str:
        """A new feedback date within the six months an extension may reach."""
        case = db.session.get(Case, self.case_id)
        return (case.opened_at + timedelta(days=120)).date().isoformat()

    @property
    def reassign_to(self) -> int:
        return self.org.staff["leader3"].id  # eligible for a Call Centre case

    @property
    def user_id(self) -> int:
        """The account the admin pages act on (never one of the signed-in roles)."""
        return self.org.staff["leader4"].id

    @property
    def unit_id(self) -> int:
        """The org unit the admin pages edit (a leaf, no staff in it)."""
        return self.org.unit("Warehouse South")

    @cached_property
    def action_id(self) -> int:
        """A draft "You said, we did" action to publish."""
        from service.db import PublishedAction, utcnow

        action = PublishedAction(
            quarter=utcnow().date(),
            org_unit_id=self.org.unit("Operations"),
            text="Rotas are published two weeks ahead.",
            written_by_id=self.org.staff["lead"].id,
            written_at=utcnow(),
        )
        db.session.add(action)
        db.session.commit()
        return action.id

    @cached_property
    def token_id(self) -> int:
        user = db.session.get(User, self.user_id)
        new_api_token(user, f"to revoke ({self.role})")
        db.session.commit()
        return (
            db.session.execute(
                db.select(ApiToken.id)
                .where(ApiToken.user_id == self.user_id)
                .order_by(ApiToken.id.desc())
            )
            .scalars()
            .first()
        )


def report_form(ctx: Ctx) -> dict[str, Any]:
    payload = report_payload(ctx.org)
    return {
        **{k: v for k, v in payload.items() if k != "raised_before"},
        "org_unit": str(payload["org_unit"]),
        "raised_before": "no",
    }


def profile_form(ctx: Ctx) -> dict[str, Any]:
    user = db.session.get(User, ctx.user_id)
    return {
        "name": f"Kim, renamed by {ctx.role}",
        "role": user.role,
        "org_unit_id": str(user.org_unit_id or ""),
        "languages": list(user.languages or ["en"]),
        "categories": list(user.categories or CATEGORIES),
        "capacity": str(user.capacity),
        "active": "1",
    }


def action_form(ctx: Ctx) -> dict[str, Any]:
    from service.analytics import periods
    from service.db import utcnow

    return {
        "quarter": periods.containing("quarter", utcnow().date()).start.isoformat(),
        "unit": str(ctx.org.unit("Operations")),
        "category": "workload",
        "text": f"Rotas are published two weeks ahead ({ctx.role}).",
    }


def unit_form(ctx: Ctx) -> dict[str, Any]:
    unit = db.session.get(OrgUnit, ctx.unit_id)
    return {
        "name": f"Warehouse South, renamed by {ctx.role}",
        "parent_id": str(unit.parent_id),
        "headcount": str(unit.headcount),
    }


# --- the table --------------------------------------------------------------------------------

Body = Callable[[Ctx], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    path: str  # with {placeholders} read from Ctx
    expect: dict[str, Expected]
    form: Body | None = None
    json: Body | None = None


def fixed(**fields: Any) -> Body:
    """A body that is the same for every role."""
    return lambda ctx: fields


TO_ACTIONS = Redirect("/staff/you-said-we-did")

MATRIX: dict[tuple[str, str], Call] = {
    # --- public: the reporter's side, probes, sign-in ---
    ("GET", "/"): Call("/", everyone(200)),
    ("POST", "/edit"): Call("/edit", everyone(200), form=report_form),
    ("POST", "/preview"): Call("/preview", everyone(200), form=report_form),
    ("POST", "/submit"): Call("/submit", everyone(303), form=report_form),
    ("GET", "/receipt"): Call("/receipt", everyone(200)),
    # Only right after a reply, in the session that sent it; otherwise back to the code form.
    ("GET", "/follow-up/thread"): Call("/follow-up/thread", everyone(303)),
    ("GET", "/follow-up"): Call("/follow-up", everyone(200)),
    ("POST", "/follow-up"): Call(
        "/follow-up", receipt_holder(200), form=lambda ctx: {"receipt": ctx.held_receipt}
    ),
    ("POST", "/follow-up/reply"): Call(
        "/follow-up/reply",
        receipt_holder(303),
        form=lambda ctx: {"receipt": ctx.held_receipt, "body": "Thank you, Friday works."},
    ),
    ("POST", "/follow-up/reply/preview"): Call(
        "/follow-up/reply/preview",
        receipt_holder(200),
        form=lambda ctx: {"receipt": ctx.held_receipt, "body": "Thank you, Friday works."},
    ),
    ("POST", "/language"): Call("/language", everyone(303), form=fixed(language="de", next="/")),
    ("GET", "/healthz"): Call("/healthz", everyone(200)),
    ("GET", "/readyz"): Call("/readyz", everyone(200)),
    ("GET", "/healthz/worker"): Call("/healthz/worker", everyone(200)),
    ("GET", "/static/<path:filename>"): Call("/static/css/defuse.css", everyone(200)),
    ("GET", "/login"): Call("/login", everyone(200)),
    ("POST", "/login"): Call(
        "/login",
        everyone(Redirect("/cases")),  # leader3's home
        form=lambda ctx: {"email": "leader3@demo.defuse", "password": PASSWORD},
    ),
    ("POST", "/logout"): Call("/logout", everyone(TO_LOGIN)),
    # The code step exists only between a right password and a code: nobody here is there.
    ("GET", "/login/second-factor"): Call("/login/second-factor", everyone(TO_LOGIN)),
    ("POST", "/login/second-factor"): Call(
        "/login/second-factor", everyone(TO_LOGIN), form=fixed(code="123456")
    ),
    # Single sign-on is not configured in this app: its routes say so.
    ("GET", "/login/oidc"): Call("/login/oidc", everyone(404)),
    ("GET", "/login/oidc/callback"): Call("/login/oidc/callback?code=x&state=y", everyone(404)),
    # --- a signed-in user's own second factor (lead, hr_analyst and admin already have one) ---
    ("GET", "/account/second-factor"): Call(
        "/account/second-factor", staff_page(**dict.fromkeys(STAFF, 200))
    ),
    ("POST", "/account/second-factor"): Call(
        "/account/second-factor",
        staff_page(
            **dict.fromkeys(("trust_leader", "other_leader"), 422),  # a wrong code
            **dict.fromkeys(("lead", "hr_analyst", "admin"), 409),  # already set up
        ),
        form=fixed(code="not-a-code"),
    ),
    ("POST", "/account/recovery-codes"): Call(
        "/account/recovery-codes",
        staff_page(
            **dict.fromkeys(("trust_leader", "other_leader"), Redirect("/account/second-factor")),
            **dict.fromkeys(("lead", "hr_analyst", "admin"), 401),  # a wrong code
        ),
        form=fixed(code="not-a-code"),
    ),
    # --- public API ---
    ("GET", "/api/v1/org-units"): Call("/api/v1/org-units", everyone(200)),
    ("GET", "/api/v1/openapi.json"): Call("/api/v1/openapi.json", everyone(200)),
    ("GET", "/api/v1/docs"): Call("/api/v1/docs", everyone(200)),
    ("POST", "/api/v1/reports"): Call(
        "/api/v1/reports", everyone(201), json=lambda ctx: report_payload(ctx.org)
    ),
    ("GET", "/api/v1/reports/status"): Call("/api/v1/reports/status", receipt_holder(200)),
    ("POST", "/api/v1/reports/messages"): Call(
        "/api/v1/reports/messages",
        receipt_holder(201),
        json=lambda ctx: {"body": "Thank you, Friday works."},
    ),
    # --- the Trust Leader workspace ---
    ("GET", "/cases"): Call("/cases", staff_page(**dict.fromkeys(CASE_WORKERS, 200))),
    ("GET", "/cases/<int:case_id>"): Call(
        "/cases/{case_id}", staff_page(**case_worker(200, lead=200))
    ),
    ("POST", "/cases/<int:case_id>/status"): Call(
        "/cases/{case_id}/status",
        staff_page(**case_worker(TO_CASE, lead=403)),
        form=fixed(status="acknowledged"),
    ),
    ("POST", "/cases/<int:case_id>/guide"): Call(
        "/cases/{case_id}/guide",
        staff_page(**case_worker(TO_CASE, lead=403)),
        form=lambda ctx: {"shown": [ctx.step], "ticked": [ctx.step]},
    ),
    ("POST", "/cases/<int:case_id>/messages"): Call(
        "/cases/{case_id}/messages",
        staff_page(**case_worker(TO_CASE, lead=403)),
        form=fixed(body="Could we talk on Friday?"),
    ),
    ("POST", "/cases/<int:case_id>/notes"): Call(
        "/cases/{case_id}/notes",
        staff_page(**case_worker(TO_CASE, lead=403)),
        form=fixed(body="Called back, no answer."),
    ),
    ("POST", "/cases/<int:case_id>/assignee"): Call(
        "/cases/{case_id}/assignee",
        staff_page(**case_worker(403, lead=TO_CASE)),
        form=lambda ctx: {"assignee": str(ctx.reassign_to)},
    ),
    ("POST", "/cases/<int:case_id>/feedback-deadline"): Call(
        "/cases/{case_id}/feedback-deadline",
        staff_page(**case_worker(TO_CASE, lead=TO_CASE)),
        form=lambda ctx: {"until": ctx.feedback_due_later, "reason": "Waiting for a witness."},
    ),
    ("POST", "/cases/<int:case_id>/reopen"): Call(
        "/cases/{withdrawn_case_id}/reopen", staff_page(**case_worker(403, lead=TO_CASE))
    ),
    ("GET", "/cases/availability"): Call(
        "/cases/availability", staff_page(**dict.fromkeys(CASE_WORKERS, 200))
    ),
    ("POST", "/cases/availability"): Call(
        "/cases/availability",
        staff_page(**dict.fromkeys(CASE_WORKERS, Redirect("/cases/availability"))),
        form=lambda ctx: {"away_until": (utcnow() + timedelta(days=10)).date().isoformat()},
    ),
    # --- the cases API ---
    ("GET", "/api/v1/cases"): Call("/api/v1/cases", api(**dict.fromkeys(CASE_WORKERS, 200))),
    ("GET", "/api/v1/cases/<int:case_id>"): Call(
        "/api/v1/cases/{case_id}", api(**case_worker(200, lead=200))
    ),
    ("POST", "/api/v1/cases/<int:case_id>/transition"): Call(
        "/api/v1/cases/{case_id}/transition",
        api(**case_worker(200, lead=403)),
        json=fixed(status="acknowledged"),
    ),
    ("PUT", "/api/v1/cases/<int:case_id>/assignee"): Call(
        "/api/v1/cases/{case_id}/assignee",
        api(**case_worker(403, lead=200)),
        json=lambda ctx: {"assignee": ctx.reassign_to},
    ),
    ("POST", "/api/v1/cases/<int:case_id>/feedback-deadline"): Call(
        "/api/v1/cases/{case_id}/feedback-deadline",
        api(**case_worker(200, lead=200)),
        json=lambda ctx: {"until": ctx.feedback_due_later, "reason": "Waiting for a witness."},
    ),
    ("DELETE", "/api/v1/cases/<int:case_id>/withdrawal"): Call(
        "/api/v1/cases/{withdrawn_case_id}/withdrawal", api(**case_worker(403, lead=200))
    ),
    ("GET", "/api/v1/cases/<int:case_id>/guide"): Call(
        "/api/v1/cases/{case_id}/guide", api(**case_worker(200, lead=200))
    ),
    ("POST", "/api/v1/cases/<int:case_id>/guide"): Call(
        "/api/v1/cases/{case_id}/guide",
        api(**case_worker(200, lead=403)),
        json=lambda ctx: {"step": ctx.step, "ticked": True},
    ),
    ("GET", "/api/v1/cases/<int:case_id>/messages"): Call(
        "/api/v1/cases/{case_id}/messages", api(**case_worker(200, lead=200))
    ),
    ("POST", "/api/v1/cases/<int:case_id>/messages"): Call(
        "/api/v1/cases/{case_id}/messages",
        api(**case_worker(201, lead=403)),
        json=fixed(body="Could we talk on Friday?"),
    ),
    ("GET", "/api/v1/cases/<int:case_id>/notes"): Call(
        "/api/v1/cases/{case_id}/notes", api(**case_worker(200, lead=200))
    ),
    ("POST", "/api/v1/cases/<int:case_id>/notes"): Call(
        "/api/v1/cases/{case_id}/notes",
        api(**case_worker(201, lead=403)),
        json=fixed(body="Called back, no answer."),
    ),
    # --- "You said, we did": public; leads and admins write and publish ---
    ("GET", "/you-said-we-did"): Call("/you-said-we-did", everyone(200)),
    ("GET", "/staff/you-said-we-did"): Call(
        "/staff/you-said-we-did", staff_page(lead=200, admin=200)
    ),
    ("POST", "/staff/you-said-we-did"): Call(
        "/staff/you-said-we-did",
        staff_page(
            lead=Redirect("/staff/you-said-we-did"), admin=Redirect("/staff/you-said-we-did")
        ),
        form=action_form,
    ),
    ("POST", "/staff/you-said-we-did/<int:action_id>/publish"): Call(
        "/staff/you-said-we-did/{action_id}/publish",
        staff_page(
            lead=Redirect("/staff/you-said-we-did"), admin=Redirect("/staff/you-said-we-did")
        ),
    ),
    # --- HR analytics: hr_analyst and admin ---
    ("GET", "/analytics"): Call("/analytics", staff_page(hr_analyst=200, admin=200)),
    ("GET", "/analytics/export.csv"): Call(
        "/analytics/export.csv", staff_page(hr_analyst=200, admin=200)
    ),
    ("GET", "/api/v1/analytics/risk"): Call(
        "/api/v1/analytics/risk", api(hr_analyst=200, admin=200)
    ),
    ("GET", "/api/v1/analytics/summary"): Call(
        "/api/v1/analytics/summary", api(hr_analyst=200, admin=200)
    ),
    ("GET", "/api/v1/analytics/hotspots"): Call(
        "/api/v1/analytics/hotspots", api(hr_analyst=200, admin=200)
    ),
    # --- administration: admin only ---
    ("GET", "/admin"): Call("/admin", staff_page(admin=Redirect("/admin/users"))),
    ("GET", "/admin/users"): Call("/admin/users", staff_page(admin=200)),
    ("GET", "/admin/users/new"): Call("/admin/users/new", staff_page(admin=200)),
    ("POST", "/admin/users/new"): Call(
        "/admin/users/new",
        staff_page(admin=Redirect("/admin/users/")),
        form=lambda ctx: {
            "email": f"new-{ctx.role}@demo.defuse",
            "password": "a-long-enough-password",
            "role": "trust_leader",
            "org_unit_id": str(ctx.org.unit("Transport")),
            "languages": ["en"],
            "categories": list(CATEGORIES),
            "capacity": "8",
        },
    ),
    ("GET", "/admin/users/<int:user_id>"): Call("/admin/users/{user_id}", staff_page(admin=200)),
    ("POST", "/admin/users/<int:user_id>"): Call(
        "/admin/users/{user_id}", staff_page(admin=Redirect("/admin/users/")), form=profile_form
    ),
    ("POST", "/admin/users/<int:user_id>/password"): Call(
        "/admin/users/{user_id}/password",
        staff_page(admin=Redirect("/admin/users/")),
        form=fixed(password="another-long-password"),
    ),
    ("POST", "/admin/users/<int:user_id>/second-factor/reset"): Call(
        "/admin/users/{user_id}/second-factor/reset",
        staff_page(admin=Redirect("/admin/users/")),
        form=fixed(),
    ),
    ("POST", "/admin/users/<int:user_id>/tokens"): Call(
        "/admin/users/{user_id}/tokens", staff_page(admin=200), form=fixed(label="ci")
    ),
    ("POST", "/admin/users/<int:user_id>/tokens/<int:token_id>/revoke"): Call(
        "/admin/users/{user_id}/tokens/{token_id}/revoke",
        staff_page(admin=Redirect("/admin/users/")),
        form=fixed(),
    ),
    ("GET", "/admin/org"): Call("/admin/org", staff_page(admin=200)),
    ("GET", "/admin/org/<int:unit_id>"): Call("/admin/org/{unit_id}", staff_page(admin=200)),
    ("POST", "/admin/org/<int:unit_id>"): Call(
        "/admin/org/{unit_id}", staff_page(admin=Redirect("/admin/org/")), form=unit_form
    ),
    ("GET", "/admin/audit"): Call("/admin/audit", staff_page(admin=200)),
    ("GET", "/admin/notifications"): Call("/admin/notifications", staff_page(admin=200)),
    ("GET", "/admin/jobs"): Call("/admin/jobs", staff_page(admin=200)),
    # Without Redis there is nothing to retry: the admin is sent back to the list with a note.
    ("POST", "/admin/jobs/<queue_name>/<job_id>/retry"): Call(
        "/admin/jobs/routing/route_case-1-0/retry",
        staff_page(admin=Redirect("/admin/jobs")),
        form=fixed(),
    ),
}


# --- running it -------------------------------------------------------------------------------


@pytest.fixture
def app(settings):  # type: ignore[no-untyped-def]
    """Overrides conftest's app: no CSRF (the forms' tokens are tested elsewhere; here every
    role must reach the access check) and rate limits out of the way."""
    matrix_app = make_app(
        settings.replace(
            rate_limits_enabled=False,
            rate_limit_reports="10000 per minute",
            rate_limit_receipts="10000 per minute",
            rate_limit_login="10000 per minute",
        )
    )
    matrix_app.config["WTF_CSRF_ENABLED"] = False
    with matrix_app.app_context():
        yield matrix_app


def app_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def test_every_route_has_an_entry(app):  # type: ignore[no-untyped-def]
    routes, table = app_routes(app), set(MATRIX)
    missing = sorted(routes - table)
    extra = sorted(table - routes)
    assert not missing and not extra, (
        "The access matrix and app.url_map differ.\n"
        f"Routes without an entry in MATRIX (add one): {missing}\n"
        f"Entries in MATRIX for no route (remove or fix): {extra}"
    )
    for key, call in MATRIX.items():
        assert set(call.expect) == set(ROLES), f"{key}: expected answers must name every role"


class Clients:
    """One client per role: staff pages signed in through POST /login, the API by token."""

    def __init__(self, app: Flask, org: Org) -> None:
        self.app, self.org = app, org
        self._signed_in: dict[str, FlaskClient] = {}
        self._tokens: dict[str, str] = {}

    def web(self, role: str) -> FlaskClient:
        if role not in STAFF:
            return self.app.test_client()
        if role not in self._signed_in:
            self._signed_in[role] = signed_in(self.app, f"{STAFF[role]}@demo.defuse")
        return self._signed_in[role]

    def token(self, role: str) -> str:
        if role not in self._tokens:
            self._tokens[role] = new_api_token(self.org.staff[STAFF[role]], "matrix")
            db.session.commit()
        return self._tokens[role]

    def request(self, role: str, method: str, call: Call, ctx: Ctx):  # type: ignore[no-untyped-def]
        path = call.path.format_map(_Lookup(ctx))
        kwargs: dict[str, Any] = {"headers": {}}
        if call.form is not None:
            kwargs["data"] = call.form(ctx)
        if call.json is not None:
            kwargs["json"] = call.json(ctx)
        if path.startswith("/api/"):
            client = self.app.test_client()
            if role in STAFF:
                kwargs["headers"]["Authorization"] = f"Bearer {self.token(role)}"
            elif role == "reporter" and path.startswith("/api/v1/reports/"):
                kwargs["headers"]["X-Receipt"] = ctx.receipt
        else:
            client = self.web(role)
        return client.open(path, method=method, **kwargs)


class _Lookup(dict):  # type: ignore[type-arg]
    def __init__(self, ctx: Ctx) -> None:
        super().__init__()
        self.ctx = ctx

    def __missing__(self, name: str) -> Any:
        return getattr(self.ctx, name)


def outcome(response) -> str:  # type: ignore[no-untyped-def]
    if response.status_code in (301, 302, 303, 307, 308):
        return f"{response.status_code}->{urlsplit(response.headers.get('Location', '')).path}"
    return str(response.status_code)


def matches(expected: Expected, response) -> bool:  # type: ignore[no-untyped-def]
    location = urlsplit(response.headers.get("Location", "")).path
    if isinstance(expected, Redirect):
        return response.status_code == 302 and location.startswith(expected.to)
    if expected == 302:
        # A plain 302 is a success: being sent to sign in instead is a refusal.
        return response.status_code == 302 and not location.startswith(TO_LOGIN.to)
    return response.status_code == expected


@pytest.mark.parametrize("key", sorted(MATRIX), ids=" ".join)
def test_access(app, org, key):  # type: ignore[no-untyped-def]
    (method, rule), call = key, MATRIX[key]
    clients = Clients(app, org)
    rows, wrong = [], False
    for role in ROLES:
        ctx = Ctx(org, role)
        response = clients.request(role, method, call, ctx)
        response.close()  # static files are streamed from an open file
        db.session.rollback()  # the next role reads fresh from the database
        ok = matches(call.expect[role], response)
        wrong |= not ok
        rows.append(
            f"  {role:<13} {call.expect[role]!s:<24} {outcome(response):<24}"
            f"{'' if ok else '<-- WRONG'}"
        )
    header = f"  {'role':<13} {'expected':<24} {'actual':<24}"
    assert not wrong, f"{method} {rule}:\n" + "\n".join([header, *rows])
