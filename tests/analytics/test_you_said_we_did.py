"""The public "You said, we did" page: themes with at least k reports a quarter, actions
leaders published, for anyone; written and published by leads and admins, audited."""

from __future__ import annotations

from sqlalchemy import select

from service.analytics import periods
from service.analytics.feedback import released_quarters
from service.db import AuditEvent, PublishedAction
from service.extensions import db
from tests.analytics.helpers import add_reports, spread
from tests.cases.support import csrf_token, sign_in


def quarter_months():  # type: ignore[no-untyped-def]
    quarter = released_quarters()[0]
    return quarter, periods.months_of(quarter)


def test_anyone_sees_themes_of_k_reports_and_never_a_smaller_group(client, org):
    quarter, months = quarter_months()
    for month in months:
        spread(org.unit("Warehouse North"), month, 6, category="workload")
        spread(org.unit("Call Centre"), month, 6, category="workload")
    earlier = periods.months_of(released_quarters()[1])[0]
    add_reports(org.unit("Payroll"), earlier.start, 4, category="harassment")
    page = client.get("/you-said-we-did")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert quarter.label in html
    # One of the units may be withheld to protect the four (complementary suppression).
    assert ("Operations" in html or "Customer Service" in html) and "Workload" in html
    assert "Harassment" not in html  # 4 reports: under k


def test_a_lead_writes_and_publishes_an_action_and_it_is_audited(client, org):
    quarter, months = quarter_months()
    for month in months:
        spread(org.unit("Warehouse North"), month, 6, category="workload")
    sign_in(client, org.staff["lead"].email)
    text = "Rotas are now published two weeks ahead."
    written = client.post(
        "/staff/you-said-we-did",
        data={
            "csrf_token": csrf_token(client, "/staff/you-said-we-did"),
            "quarter": quarter.start.isoformat(),
            "unit": str(org.unit("Operations")),
            "category": "workload",
            "text": text,
        },
    )
    assert written.status_code == 302
    action = db.session.scalars(select(PublishedAction)).one()
    assert text not in client.get("/you-said-we-did").get_data(as_text=True)  # a draft
    published = client.post(
        f"/staff/you-said-we-did/{action.id}/publish",
        data={"csrf_token": csrf_token(client, "/staff/you-said-we-did")},
    )
    assert published.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/staff/you-said-we-did")})
    assert text in client.get("/you-said-we-did").get_data(as_text=True)
    actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert "action_written" in actions and "action_published" in actions


def test_a_bad_action_is_refused_with_field_messages_and_nothing_written(client, org):
    sign_in(client, org.staff["lead"].email)
    refused = client.post(
        "/staff/you-said-we-did",
        data={
            "csrf_token": csrf_token(client, "/staff/you-said-we-did"),
            "quarter": "not a date",
            "unit": str(org.unit("Operations")),
            "category": "nonsense",
            "text": "short",
        },
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="quarter-error"' in html and 'id="category-error"' in html
    assert 'id="text-error"' in html
    assert db.session.scalars(select(PublishedAction)).first() is None
