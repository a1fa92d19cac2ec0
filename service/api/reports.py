"""Reporter endpoints: submit a report; follow it up with the receipt code.

The receipt travels only in the X-Receipt header, never in a URL, so it cannot end up in
access logs, browser history or referrers.
"""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from service.intake import service
from service.limits import receipt_lookup, report_submission
from service.schemas.reports import (
    ReportCreatedSchema,
    ReportCreateSchema,
    ReporterReplySchema,
    ReportMessageSchema,
    ReportStatusSchema,
)

PREFIX = "/reports"
blp = Blueprint("reports", __name__, description="Anonymous reports")

RECEIPT_HEADER = {
    "name": "X-Receipt",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "The receipt code given when the report was submitted.",
}


@blp.after_request
def _never_cache(response):  # type: ignore[no-untyped-def]
    # Every answer here carries a receipt, a status or a thread: no browser or proxy may keep
    # it, errors included.
    response.headers["Cache-Control"] = "no-store"
    return response


def _case_from_receipt():  # type: ignore[no-untyped-def]
    case = service.find_case_by_receipt(request.headers.get("X-Receipt", ""))
    if case is None:
        # The same answer for a malformed code and an unknown one.
        abort(404, message="No report matches that receipt code.")
    return case


def _status_body(case) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return {
        **service.reporter_status(case),
        "messages": [
            {"from_reporter": m.from_reporter, "body": m.body or "", "sent_on": m.created_at.date()}
            for m in service.reporter_messages(case)
        ],
    }


@blp.route("")
class Reports(MethodView):
    decorators = [report_submission]

    @blp.arguments(ReportCreateSchema)
    @blp.response(201, ReportCreatedSchema)
    def post(self, data):  # type: ignore[no-untyped-def]
        """Submit a report. Returns the receipt code, once: it is never stored in clear.

        An unknown or retired org unit is a 422 on the `org_unit` field, like any other
        invalid field.
        """
        try:
            submission = service.submit_report(data)
        except service.UnknownOrgUnit as error:
            abort(422, messages={"json": {"org_unit": [str(error)]}})
        return {"id": submission.report_id, "receipt": submission.receipt, "status": "new"}


@blp.route("/status")
class ReportStatus(MethodView):
    decorators = [receipt_lookup]

    @blp.doc(parameters=[RECEIPT_HEADER], security=[{"receipt": []}])
    @blp.response(200, ReportStatusSchema)
    @blp.alt_response(404, description="No report matches the receipt")
    def get(self):  # type: ignore[no-untyped-def]
        """The report's status and its message thread."""
        return _status_body(_case_from_receipt())


@blp.route("/messages")
class ReporterMessages(MethodView):
    decorators = [receipt_lookup]

    @blp.doc(parameters=[RECEIPT_HEADER], security=[{"receipt": []}])
    @blp.arguments(ReporterReplySchema)
    @blp.response(201, ReportMessageSchema)
    @blp.alt_response(404, description="No report matches the receipt")
    @blp.alt_response(409, description="The case is closed")
    def post(self, data):  # type: ignore[no-untyped-def]
        """Write to the Trust Leader, anonymously."""
        case = _case_from_receipt()
        if case.status == "closed" or case.report.text_removed_on is not None:
            abort(409, message="This case is closed.")
        message = service.add_reporter_message(case, data["body"])
        return {"from_reporter": True, "body": message.body, "sent_on": message.created_at.date()}
