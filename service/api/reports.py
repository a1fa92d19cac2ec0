"""Reporter endpoints: submit a report; follow it up with the receipt code.

The receipt travels only in the X-Receipt header, never in a URL, so it cannot end up in
access logs, browser history or referrers.
"""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from service.intake import once, service
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


IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 16, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "A random value the client makes for each report or message (a UUID will "
    "do). Sending the same key again with the same body files nothing more and answers as the "
    "first time, with `Idempotent-Replayed: true`; with a different body it is a 409. Keys are "
    "remembered for DEFUSE_SUBMISSION_KEY_HOURS (24 by default).",
}
REPLAYED_HEADER = {"Idempotent-Replayed": "true"}


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 16 <= len(key) <= 255 or not all("!" <= char <= "~" for char in key):
        abort(
            422,
            messages={
                "headers": {
                    "Idempotency-Key": [
                        "Idempotency-Key: must be 16 to 255 visible ASCII characters "
                        "(no spaces), such as a random UUID."
                    ]
                }
            },
        )
    return key


def _key_reused() -> None:
    # 409: the request is fine; it conflicts with the earlier one sent under the same key.
    abort(409, message="Idempotency-Key: already used for a different request; make a new key.")


@blp.route("")
class Reports(MethodView):
    decorators = [report_submission]

    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    @blp.arguments(ReportCreateSchema)
    @blp.response(201, ReportCreatedSchema)
    @blp.alt_response(409, description="The Idempotency-Key was used for a different report")
    def post(self, data):  # type: ignore[no-untyped-def]
        """Submit a report. Returns the receipt code, once: it is never stored in clear.

        An unknown or retired org unit is a 422 on the `org_unit` field, like any other
        invalid field. With an `Idempotency-Key`, a resend files nothing and answers the same.
        """
        key = _idempotency_key()
        try:
            submission = service.submit_report(data, submission_key=key, key_payload=data)
        except service.UnknownOrgUnit as error:
            abort(422, messages={"json": {"org_unit": [str(error)]}})
        except once.KeyReused:
            _key_reused()
        body = {"id": submission.report_id, "receipt": submission.receipt, "status": "new"}
        return (body, REPLAYED_HEADER) if submission.replayed else body


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

    @blp.doc(parameters=[RECEIPT_HEADER, IDEMPOTENCY_HEADER], security=[{"receipt": []}])
    @blp.arguments(ReporterReplySchema)
    @blp.response(201, ReportMessageSchema)
    @blp.alt_response(404, description="No report matches the receipt")
    @blp.alt_response(409, description="The case is closed, or the Idempotency-Key was used")
    def post(self, data):  # type: ignore[no-untyped-def]
        """Write to the Trust Leader, anonymously."""
        case = _case_from_receipt()
        if case.status == "closed" or case.report.text_removed_on is not None:
            abort(409, message="This case is closed.")
        key = _idempotency_key()
        try:
            sent = service.add_reporter_message(
                case, data["body"], submission_key=key, key_payload=data
            )
        except once.KeyReused:
            _key_reused()
        message = sent.message
        body = {"from_reporter": True, "body": message.body, "sent_on": message.created_at.date()}
        return (body, REPLAYED_HEADER) if sent.replayed else body
