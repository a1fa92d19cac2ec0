"""Taking in a report: scrub, score, and store report + case + outbox entry in one transaction.

Both the web form and POST /api/v1/reports come through `submit_report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from service.audit import record
from service.db import Case, Message, OrgUnit, Report, to_day, to_hour, utcnow
from service.engine.language import choose_language
from service.extensions import db
from service.i18n import N_
from service.intake import once
from service.notify import notify_case_activity, page_leads
from service.privacy import get_scrubber, purpose_key
from service.privacy.receipts import hash_receipt, new_receipt_code, normalise_receipt
from service.schemas.messages import Phrase
from service.schemas.reports import UNKNOWN_ORG_UNIT, field_label
from service.scoring import score_new_report
from service.tasks.relay import new_case_entry, relay_outbox_soon

RECEIPT_PURPOSE = "receipt"
REPORT_SCOPE = "report"
#: A fired rule with this tag (self-harm, a threat to life) shows the reporter where to get
#: help at once, on the receipt and at every follow-up.
CRISIS_TAG = "signpost.crisis"


class UnknownOrgUnit(ValueError):
    """The report names no unit a reporter may choose: none has that id, or it is retired.
    The message (a schemas.messages.Phrase, `message`) is for the `org_unit` field."""

    @property
    def message(self) -> Phrase:
        return self.args[0]


def check_org_unit(org_unit_id: int) -> None:
    """The one rule for which units a report may be about (the form lists the same ones)."""
    unit = db.session.get(OrgUnit, org_unit_id)
    if unit is None:
        raise UnknownOrgUnit(UNKNOWN_ORG_UNIT)
    if unit.retired:
        # Its history stays in the analytics; new reports go to the unit that replaced it.
        raise UnknownOrgUnit(
            Phrase.gettext(
                "%(field)s: this org unit has been retired; choose another from the list.",
                field=field_label("org_unit"),
            )
        )


@dataclass(frozen=True)
class Submission:
    # Plain ids, taken before the commit: answering the reporter needs no further database
    # round trip that could fail after their report is safely stored.
    report_id: int
    case_id: int
    receipt: str  # shown to the reporter once, never stored in clear
    submitted_on: date | None = None  # the day, as stored: the receipt page shows it
    crisis: bool = False  # show crisis-support signposting
    replayed: bool = False  # the same submission key filed this report before


def receipt_hash(code: str) -> str | None:
    if normalise_receipt(code) is None:
        return None
    return hash_receipt(code, purpose_key(RECEIPT_PURPOSE))


def preview(text: str, language: str):  # type: ignore[no-untyped-def]
    """What a Trust Leader will see of an account or reply: the scrubbed text, redactions
    marked. Must stay the very call the stored text goes through, so the preview is true."""
    return get_scrubber().scrub(text, language=language)


def report_language(text: str, form_language: str | None) -> str:
    """The language a new report is scrubbed in: the preview and the stored text agree."""
    return choose_language(text, form_language).language


def submit_report(
    data: dict[str, Any], submission_key: str | None = None, key_payload: Any = None
) -> Submission:
    """Store a validated report (ReportCreateSchema output). Commits, then hands the routing
    job to the outbox relay; raises UnknownOrgUnit before writing anything.

    With a submission key, a report already filed with that key is answered instead of filing
    another (`replayed`); `key_payload`, when given, must match what came with the key first
    (once.KeyReused otherwise)."""
    if submission_key is not None:
        replay = _earlier_report(submission_key, key_payload)
        if replay is not None:
            return replay
        try:
            return _file_report(data, submission_key, key_payload)
        except IntegrityError:
            # The same key sent twice at once: the other request filed the report.
            db.session.rollback()
            replay = _earlier_report(submission_key, key_payload)
            if replay is None:
                raise
            return replay
    return _file_report(data, None, None)


def _earlier_report(submission_key: str, key_payload: Any) -> Submission | None:
    filed = once.earlier(REPORT_SCOPE, submission_key, key_payload)
    if filed is None:
        return None
    case = db.session.execute(
        db.select(Case).where(Case.report_id == filed.result_id)
    ).scalar_one_or_none()
    if case is None:
        return None
    return Submission(
        report_id=filed.result_id,
        case_id=case.id,
        receipt=filed.receipt or "",
        submitted_on=case.report.submitted_on,
        crisis=needs_crisis_support(case.report),
        replayed=True,
    )


def _file_report(data: dict[str, Any], submission_key: str | None, key_payload: Any) -> Submission:
    settings = current_app.config["DEFUSE"]
    check_org_unit(data["org_unit"])

    # Read from the raw text, before scrubbing: the language decides how names are found.
    language = choose_language(data["text"], data.get("language"))
    scrubbed = preview(data["text"], language=language.language)
    contact = data.get("contact")
    code = new_receipt_code()
    report = Report(
        org_unit_id=data["org_unit"],
        category=data["category"],
        duration=data.get("duration"),
        raised_before=data.get("raised_before"),
        raised_with=list(data.get("raised_with") or []),
        involved=list(data.get("involved") or []),
        desired_outcome=data.get("desired_outcome"),
        urgency=data.get("urgency") or "normal",
        language=language.language,
        form_language=language.form_language,
        detected_language=language.detected,
        text=scrubbed.text,
        redactions=dict(scrubbed.counts),
        contact=contact or None,
        submitted_on=utcnow().date(),
        receipt_hash=receipt_hash(code),
    )
    db.session.add(report)
    db.session.flush()
    if submission_key is not None:
        once.remember(REPORT_SCOPE, submission_key, report.id, key_payload, receipt=code)
    score_new_report(report)
    crisis = needs_crisis_support(report)

    now = utcnow()
    case = Case(  # new and waiting for routing: the model's defaults
        report=report,
        opened_at=to_hour(now),
        ack_due_at=to_hour(now) + settings.sla[report.risk_level],
        feedback_due_at=to_hour(now) + timedelta(days=settings.feedback_days),
    )
    db.session.add(case)
    db.session.flush()
    outbox_entry = new_case_entry(case.id)
    db.session.add(outbox_entry)
    db.session.flush()
    routing_job = (outbox_entry.id, case.id, 0)  # read now: after the commit it would reload
    relay_now = outbox_entry.relay_after is None  # else the scheduled relay, after its delay
    record("report.submitted", case_id=case.id, actor_kind="reporter")
    if crisis:
        page_leads(case, "A report mentions a risk to someone's life")
    elif report.risk_level == "critical":
        page_leads(case, "A critical case has come in")

    from service.analytics.rollups import count_new_report

    count_new_report(report)
    submission = Submission(
        report_id=report.id,
        case_id=case.id,
        receipt=code,
        submitted_on=report.submitted_on,
        crisis=crisis,
    )
    db.session.commit()

    if relay_now:
        relay_outbox_soon([routing_job])
    return submission


def needs_crisis_support(report: Report) -> bool:
    """Whether a rule tagged for crisis signposting fired on the report's current assessment."""
    explanation = report.risk_explanation or {}
    return any(CRISIS_TAG in (rule.get("tags") or ()) for rule in explanation.get("rules", ()))


def find_case_by_receipt(code: str) -> Case | None:
    digest = receipt_hash(code)
    if digest is None:
        return None
    return db.session.execute(
        db.select(Case).join(Report).where(Report.receipt_hash == digest)
    ).scalar_one_or_none()


def reporter_messages(case: Case) -> list[Message]:
    """The thread as the reporter sees it; staff messages are marked read by the reporter,
    with a flag and no time."""
    messages = list(
        db.session.execute(
            db.select(Message).where(Message.case_id == case.id).order_by(Message.id)
        ).scalars()
    )
    for message in messages:
        if not message.from_reporter and not message.read_by_reporter:
            message.read_by_reporter = True
    db.session.commit()
    return messages


@dataclass(frozen=True)
class Reply:
    message: Message
    replayed: bool = False  # the same submission key sent this message before


def add_reporter_message(
    case: Case, body: str, submission_key: str | None = None, key_payload: Any = None
) -> Reply:
    """Store the reporter's reply and tell the Trust Leader; with a submission key already used
    on this case, answer the message it sent instead (once.KeyReused for another payload)."""
    scope = f"reply:{case.id}"
    if submission_key is not None:
        earlier = _earlier_reply(scope, submission_key, key_payload)
        if earlier is not None:
            return earlier
    # Replies are in the report's language: the scrubber's word frequencies depend on it.
    scrubbed = preview(body, language=case.report.language)
    # To the day: the thread needs its order (by id), not the moment the reporter wrote.
    message = Message(
        case_id=case.id, from_reporter=True, body=scrubbed.text, created_at=to_day(utcnow())
    )
    db.session.add(message)
    db.session.flush()
    record("message.from_reporter", case_id=case.id, actor_kind="reporter")
    try:
        if submission_key is not None:
            once.remember(scope, submission_key, message.id, key_payload)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        earlier = _earlier_reply(scope, submission_key or "", key_payload)
        if earlier is None:
            raise
        return earlier
    notify_case_activity(case, "message", "There is a new message from the reporter")
    return Reply(message)


def _earlier_reply(scope: str, submission_key: str, key_payload: Any) -> Reply | None:
    filed = once.earlier(scope, submission_key, key_payload)
    message = db.session.get(Message, filed.result_id) if filed is not None else None
    return Reply(message, replayed=True) if message is not None else None


#: The status as the reporter reads it (the API's `status_label`, in English; the status page
#: words it in the page's language).
STATUS_LABELS = {
    "new": N_("Received: waiting for a Trust Leader"),
    "acknowledged": N_("A Trust Leader has read your report"),
    "in_conversation": N_("In conversation with a Trust Leader"),
    "resolved_informally": N_("Resolved informally"),
    "referred_formal": N_("Referred to a formal process"),
    "withdrawn": N_("Withdrawn"),
    "closed": N_("Closed"),
}


def reporter_status(case: Case) -> dict[str, Any]:
    report = case.report
    removed = report.text_removed_on is not None
    label = Phrase.gettext(STATUS_LABELS[case.status])
    if removed:
        label = Phrase.gettext("%(status)s (details removed)", status=label)
    return {
        "status": case.status,
        "status_label": label,
        "submitted_on": report.submitted_on,
        "text_removed": removed,
    }
