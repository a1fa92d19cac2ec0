"""Every bulk export is audited (who, when, how many rows) and the audit event never holds
what a report said: `defuse model export-labels` and the HR dashboard's CSV."""

from __future__ import annotations

import csv
import getpass
import io
import json

from sqlalchemy import select

from service.cases import service
from service.db import AuditEvent
from service.extensions import db
from tests.analytics.helpers import released_months, spread
from tests.cases.support import ACCOUNT, case_for, sign_in


def exports(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def closed_cases(org, count: int) -> None:  # type: ignore[no-untyped-def]
    leader = org.staff["leader"]
    for number in range(count):
        case = case_for(org, leader)
        service.transition(leader, case, "acknowledged")
        outcome = (
            ("legal_claim", "referred_formal")
            if number == 0
            else ("resolved", "resolved_informally")
        )
        service.transition(
            leader,
            case,
            "closed",
            outcome=outcome[0],
            resolution=outcome[1],
            closing_message="Thank you for raising this; here is what we did.",
        )


def test_export_labels_is_audited_with_counts_and_no_text(app, org, tmp_path):
    closed_cases(org, 3)
    assert exports("export.labels") == []
    output = tmp_path / "labels.jsonl"
    result = app.test_cli_runner().invoke(args=["model", "export-labels", "--output", str(output)])
    assert result.exit_code == 0, result.output
    [event] = exports("export.labels")
    assert event.actor_kind == "system" and event.actor_id is None
    assert event.detail == {"rows": 3, "escalated": 1, "os_user": getpass.getuser(), "via": "cli"}
    assert event.at is not None
    written = output.read_text()
    assert ACCOUNT in written  # the file has the text ...
    stored = json.dumps(event.detail)
    for word in ACCOUNT.split()[3:8]:  # ... the audit event none of it
        assert word not in stored


def test_an_empty_export_is_audited_too(app, org, tmp_path):
    output = tmp_path / "labels.jsonl"
    result = app.test_cli_runner().invoke(args=["model", "export-labels", "--output", str(output)])
    assert result.exit_code == 0
    [event] = exports("export.labels")
    assert event.detail["rows"] == 0


def test_each_export_is_its_own_event(app, org, tmp_path):
    closed_cases(org, 1)
    runner = app.test_cli_runner()
    for name in ("a.jsonl", "b.jsonl"):
        runner.invoke(args=["model", "export-labels", "--output", str(tmp_path / name)])
    assert [e.detail["rows"] for e in exports("export.labels")] == [1, 1]


def test_analytics_csv_export_is_audited_with_who_and_how_many(client, org):
    months = released_months(2)
    for month in months:
        spread(org.unit("Warehouse North"), month, 6)
    sign_in(client, "hr@demo.defuse")
    assert exports("export.analytics_csv") == []
    response = client.get("/analytics/export.csv?depth=2&category=all&period=month")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    [event] = exports("export.analytics_csv")
    assert event.actor_kind == "staff" and event.actor_id == org.staff["hr"].id
    assert event.detail["rows"] == len(rows) > 0
    assert event.detail["category"] == "all" and event.detail["depth"] == 2
    assert event.detail["period"] == "month"


def test_viewing_the_dashboard_is_not_an_export(client, org):
    sign_in(client, "hr@demo.defuse")
    assert client.get("/analytics").status_code == 200
    assert exports("export.analytics_csv") == []
