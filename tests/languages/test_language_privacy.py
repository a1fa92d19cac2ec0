"""The detected language is recorded with the report and seen by staff on the case, never by
HR: no analytics answer names a report's language (a rare language would single a reporter out
in a small unit)."""

from __future__ import annotations

import json

from sqlalchemy import select

from service.db import Case, Report
from service.extensions import db
from tests.analytics.helpers import token_for
from tests.analytics.test_dashboard import seed
from tests.cases.support import signed_in
from tests.factories import report_payload

RUSSIAN = "Мой начальник кричит на меня каждый день при всех и угрожает увольнением."


def test_analytics_never_name_a_report_language(client, org):
    seed(org)
    response = client.post("/api/v1/reports", json=report_payload(org, text=RUSSIAN, language="pl"))
    report = db.session.get(Report, response.get_json()["id"])
    assert report.detected_language == "ru"
    headers = token_for(org.staff["hr"])
    for path in (
        "/api/v1/analytics/risk",
        "/api/v1/analytics/summary",
        "/api/v1/analytics/hotspots",
    ):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200
        body = json.dumps(answer.get_json())
        assert '"ru"' not in body and "language" not in body, path


def test_the_case_page_shows_staff_both_languages(app, org, client):
    text = "Mein Vorgesetzter schreit mich jeden Tag vor allen Kollegen an."
    response = client.post("/api/v1/reports", json=report_payload(org, text=text, language="en"))
    report_id = response.get_json()["id"]
    case_id = db.session.execute(select(Case.id).where(Case.report_id == report_id)).scalar_one()
    lead = signed_in(app, "lead@demo.defuse")
    html = lead.get(f"/cases/{case_id}").get_data(as_text=True)
    # Each language by name, as its speakers write it and in the page's language.
    assert "Deutsch (German) (read from the text; the form said English)" in html
