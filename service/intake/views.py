"""The public side: report form, preview, receipt and follow-up. Works without JavaScript.

Nothing here logs or stores who is asking: no address, user agent or cookie identifier is
kept with a report. The form posts the account back to the reporter's own browser for the
preview; only the scrubbed text is ever stored.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import MultiDict

from service import errors as error_pages
from service.db import OrgUnit
from service.extensions import db
from service.intake import service
from service.limits import receipt_lookup, receipt_lookup_on_post, report_submission
from service.org import active_units
from service.schemas.reports import TEXT_MAX, TEXT_MIN, ReportCreateSchema, ReporterReplySchema
from service.vocab import (
    ANSWER_FIELDS,
    CATEGORIES,
    DESIRED_OUTCOMES,
    DURATIONS,
    INVOLVED_ROLES,
    LANGUAGES,
    RAISED_WITH,
)

bp = Blueprint("intake", __name__, template_folder="templates")

FIELD_ORDER = (
    "org_unit",
    "category",
    *ANSWER_FIELDS,
    "text",
    "contact",
)
LABELS = {
    "categories": {
        "harassment": "Harassment (including sexual harassment)",
        "bullying": "Bullying or intimidation",
        "discrimination": "Discrimination or unfair treatment",
        "retaliation": "Being punished for speaking up",
        "workload": "Workload or hours",
        "interpersonal": "Difficult relationship with a colleague",
        "management": "How I am being managed",
        "pay": "Pay or benefits",
        "safety": "Safety, threats or violence",
        "other": "Something else",
    },
    "durations": {
        "days": "A few days",
        "weeks": "Some weeks",
        "months": "Months",
        "years": "A year or more",
    },
    "outcomes": {
        "be_heard": "Just to be heard",
        "conversation": "A conversation about it",
        "mediation": "Help to resolve it together (mediation)",
        "formal_action": "Formal action",
    },
    # As the form asks: the preview repeats the answer the reporter chose, in the same words.
    "urgencies": {"normal": "It can wait a few days", "urgent": "It is urgent"},
}


@bp.app_template_filter("role_label")
def role_label(value: str) -> str:
    """A 'raised with' or 'involved' answer as the form shows it."""
    return "HR" if value == "hr" else value[:1].upper() + value[1:]


def form_to_payload(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's strings as the API's JSON types, so one schema validates both."""
    payload: dict[str, Any] = {
        "category": form.get("category") or None,
        "text": form.get("text", ""),
        "duration": form.get("duration") or None,
        "desired_outcome": form.get("desired_outcome") or None,
        "urgency": form.get("urgency") or "normal",
        "language": form.get("language") or "en",
        "raised_with": form.getlist("raised_with"),
        "involved": form.getlist("involved"),
        "contact": (form.get("contact") or None) if form.get("wants_contact") else None,
    }
    org_unit = form.get("org_unit", "")
    payload["org_unit"] = int(org_unit) if org_unit.isdigit() else (org_unit or None)
    raised = form.get("raised_before")
    payload["raised_before"] = {"yes": True, "no": False}.get(raised or "")
    if payload["category"] is None:
        del payload["category"]
    if payload["org_unit"] is None:
        del payload["org_unit"]
    return payload


def _render_form(
    values: MultiDict[str, str] | None = None,
    errors: dict[str, Any] | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    return render_template(
        "intake/form.html",
        values=values or MultiDict(),
        errors=errors or {},
        org_units=active_units(),
        categories=CATEGORIES,
        durations=DURATIONS,
        raised_with=RAISED_WITH,
        involved_roles=INVOLVED_ROLES,
        outcomes=DESIRED_OUTCOMES,
        languages=LANGUAGES,
        labels=LABELS,
        text_min=TEXT_MIN,
        text_max=TEXT_MAX,
    ), status


def _validate(form: MultiDict[str, str]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    try:
        data = ReportCreateSchema().load(form_to_payload(form))
    except ValidationError as error:
        return None, _messages(error.messages)
    try:
        service.check_org_unit(data["org_unit"])
    except service.UnknownOrgUnit as error:
        return None, {"org_unit": [str(error)]}
    return data, {}


def _messages(messages: Any) -> dict[str, Any]:
    """Field -> first message, with list-item errors folded onto their field."""
    if not isinstance(messages, dict):
        return {"_form": [str(messages)]}
    flat: dict[str, Any] = {}
    for field, value in messages.items():
        if isinstance(value, dict):
            value = [
                m for msgs in value.values() for m in (msgs if isinstance(msgs, list) else [msgs])
            ]
        flat[field] = value
    return flat


def highlight(result) -> Markup:  # type: ignore[no-untyped-def]
    """The scrubbed text with each redaction marked, HTML-escaped."""
    parts: list[str] = []
    cursor = 0
    for start, end, kind in sorted(result.spans):
        parts.append(str(escape(result.text[cursor:start])))
        parts.append(
            f'<mark class="redacted" title="removed: {escape(kind)}">'
            f"{escape(result.text[start:end])}</mark>"
        )
        cursor = end
    parts.append(str(escape(result.text[cursor:])))
    return Markup("".join(parts))  # noqa: S704 - every piece above is escaped


@bp.get("/")
def form():  # type: ignore[no-untyped-def]
    return _render_form()


@bp.post("/edit")
def edit():  # type: ignore[no-untyped-def]
    """Back from the preview to the form, with everything as the reporter left it."""
    return _render_form(request.form)


@bp.post("/preview")
def preview():  # type: ignore[no-untyped-def]
    data, errors = _validate(request.form)
    if data is None:
        return _render_form(request.form, errors, status=422)
    language = service.report_language(data["text"], data.get("language"))
    scrubbed = service.preview(data["text"], language=language)
    unit = db.session.get(OrgUnit, data["org_unit"])
    return render_template(
        "intake/preview.html",
        values=request.form,
        data=data,
        unit=unit,
        scrubbed=highlight(scrubbed),
        counts=scrubbed.counts,
        labels=LABELS,
        submission_token=new_submission_token(),
        # Typed a way to be reached but did not tick the box: it will not be kept; say so.
        contact_dropped=bool((request.form.get("contact") or "").strip())
        and not request.form.get("wants_contact"),
    )


#: Session keys of the one-time hand-overs from a POST to the page it redirects to. The
#: receipt code never goes in a URL (logs, history, referrers): it waits in the server-side
#: session for the one page view that shows it, and is gone after.
RECEIPT_ONCE = "receipt_once"
THREAD_ONCE = "thread_once"


def new_submission_token() -> str:
    """The confirmed form's one-time key: sending it twice files one report or reply."""
    return secrets.token_urlsafe(32)


def _form_token() -> str | None:
    token = request.form.get("submission_token", "")
    # Only tokens we could have issued; anything else files as if there were none.
    return token if 32 <= len(token) <= 64 else None


@bp.post("/submit")
@report_submission
def submit():  # type: ignore[no-untyped-def]
    data, errors = _validate(request.form)
    if data is None:
        return _render_form(request.form, errors, status=422)
    submission = service.submit_report(data, submission_key=_form_token())
    session[RECEIPT_ONCE] = {
        "code": submission.receipt,
        "crisis": submission.crisis,
        "again": submission.replayed,
    }
    # 303: the browser GETs the receipt, so a reload or Back never sends the report again.
    return redirect(url_for("intake.receipt"), code=303)


@bp.get("/receipt")
def receipt():  # type: ignore[no-untyped-def]
    shown = session.pop(RECEIPT_ONCE, None)
    if not isinstance(shown, dict):
        # Reloaded, or opened later: the code was shown once and is not kept.
        return render_template("intake/receipt.html", receipt=None, crisis=False, again=False)
    return render_template(
        "intake/receipt.html",
        receipt=shown.get("code") or None,
        crisis=bool(shown.get("crisis")),
        again=bool(shown.get("again")),
        crisis_message=current_app.config["DEFUSE"].crisis_message,
    )


@bp.route("/follow-up", methods=["GET", "POST"])
@receipt_lookup_on_post
def follow_up():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return render_template("intake/follow_up.html", not_found=False)
    code = request.form.get("receipt", "")
    case = service.find_case_by_receipt(code)
    if case is None:
        # The same answer whether the code is malformed or simply unknown.
        return render_template("intake/follow_up.html", not_found=True), 404
    # "Edit" on the reply preview comes back here with the draft, to fill the box again.
    return _render_status(case, code, draft=request.form.get("body", ""))


def _render_status(
    case,  # type: ignore[no-untyped-def]
    code: str,
    reply_errors: dict[str, Any] | None = None,
    status: int = 200,
    draft: str = "",
    notice: str | None = None,
):
    return render_template(
        "intake/status.html",
        receipt=code,
        status=service.reporter_status(case),
        messages=service.reporter_messages(case),
        reply_errors=reply_errors or {},
        draft=draft,
        notice=notice,
        text_max=TEXT_MAX,
        crisis=service.needs_crisis_support(case.report),
        crisis_message=current_app.config["DEFUSE"].crisis_message,
    ), status


def _reply_case_and_body(code: str):  # type: ignore[no-untyped-def]
    """(case, body, error response): the case behind the receipt and the validated reply."""
    case = service.find_case_by_receipt(code)
    if case is None:
        return None, None, (render_template("intake/follow_up.html", not_found=True), 404)
    draft = request.form.get("body") or ""
    if case.report.text_removed_on is not None or case.status == "closed":
        error = {"body": ["This case is closed."]}
        return case, None, _render_status(case, code, error, status=409)
    try:
        body = ReporterReplySchema().load({"body": draft.strip()})
    except ValidationError as error:
        errors = _messages(error.messages)
        return case, None, _render_status(case, code, errors, status=422, draft=draft)
    return case, body["body"], None


@bp.post("/follow-up/reply/preview")
@receipt_lookup
def reply_preview():  # type: ignore[no-untyped-def]
    """The reply as the Trust Leader will read it, redactions marked, before it is sent."""
    code = request.form.get("receipt", "")
    case, body, failed = _reply_case_and_body(code)
    if failed is not None:
        return failed
    scrubbed = service.preview(body, language=case.report.language)
    return render_template(
        "intake/reply_preview.html",
        receipt=code,
        body=body,
        scrubbed=highlight(scrubbed),
        counts=scrubbed.counts,
        submission_token=new_submission_token(),
    )


@bp.post("/follow-up/reply")
@receipt_lookup
def reply():  # type: ignore[no-untyped-def]
    code = request.form.get("receipt", "")
    case, body, failed = _reply_case_and_body(code)
    if failed is not None:
        return failed
    sent = service.add_reporter_message(case, body, submission_key=_form_token())
    session[THREAD_ONCE] = {
        "code": code,
        "notice": "This message was already sent." if sent.replayed else "Your message was sent.",
    }
    return redirect(url_for("intake.thread"), code=303)


@bp.get("/follow-up/thread")
def thread():  # type: ignore[no-untyped-def]
    """The thread right after a reply is sent, once: a reload asks for the code again, so the
    code is not kept in the browser's session for anyone who uses the device next."""
    shown = session.pop(THREAD_ONCE, None)
    case = service.find_case_by_receipt(shown.get("code", "")) if isinstance(shown, dict) else None
    if case is None:
        flash("To keep your report private, enter your receipt code again to see it.")
        return redirect(url_for("intake.follow_up"), code=303)
    return _render_status(case, shown["code"], notice=shown.get("notice"))


# When sending fails (too many reports from one connection, a form open too long, the database
# away), the reporter's words must not be lost: the page that says so holds them again, from
# the request itself, with a button that sends them again. Nothing is stored meanwhile.
KEEPS_WORDS = {
    "intake.preview": ("text", "Your account", "Preview my report"),
    "intake.submit": ("text", "Your account", "Send report"),
    "intake.reply_preview": ("body", "Your message", "Preview message"),
    "intake.reply": ("body", "Your message", "Send message"),
}


def _words_kept(heading: str, reason: str, status: int, headers=None):  # type: ignore[no-untyped-def]
    text_field, text_label, retry_label = KEEPS_WORDS[request.endpoint or ""]
    page = render_template(
        "intake/not_sent.html",
        heading=heading,
        reason=reason,
        values=request.form,
        text_field=text_field,
        text_label=text_label,
        retry_label=retry_label,
        retry_url=request.path,
    )
    return page, status, headers or {}


@bp.errorhandler(429)
def _rate_limited(error):  # type: ignore[no-untyped-def]
    if request.endpoint not in KEEPS_WORDS:
        return error_pages.handle_http_exception(error)
    retry_after = {k: v for k, v in error.get_headers() if k.lower() == "retry-after"}
    return _words_kept(
        "Not sent yet: please wait a while",
        "Too many reports or messages have come from this connection recently, so this one was "
        "not sent. Please try again later, or from another connection.",
        429,
        retry_after,
    )


@bp.errorhandler(CSRFError)
def _form_expired(error):  # type: ignore[no-untyped-def]
    if request.endpoint not in KEEPS_WORDS:
        return error_pages.handle_csrf_error(error)
    return _words_kept(
        "Not sent yet: the page was open a long time",
        "For your security the form expires after a while. Check your words below and send "
        "them again.",
        400,
    )


@bp.errorhandler(DBAPIError)
def _database_failed(error):  # type: ignore[no-untyped-def]
    if request.endpoint not in KEEPS_WORDS or not error_pages.database_unavailable(error):
        return error_pages.handle_database_error(error)
    error_pages.rollback()
    return _words_kept(
        "Not sent yet: the service is busy",
        "The service could not store this just now. Please try again in a minute.",
        503,
        {"Retry-After": "30"},
    )


@bp.after_request
def _no_store(response):  # type: ignore[no-untyped-def]
    # Receipts, previews and threads must never be kept by a browser or a proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response
