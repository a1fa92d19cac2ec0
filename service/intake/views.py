"""The public side: report form, preview, receipt and follow-up. Works without JavaScript.

Nothing here logs or stores who is asking: no address, user agent or cookie identifier is
kept with a report. The form posts the account back to the reporter's own browser for the
preview; only the scrubbed text is ever stored.
"""

from __future__ import annotations

import secrets
from datetime import date
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
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import MultiDict

from service import errors as error_pages
from service.config import DEFAULT_CRISIS_MESSAGE
from service.db import OrgUnit
from service.extensions import db
from service.i18n import N_
from service.intake import service
from service.labels import label
from service.limits import receipt_lookup, receipt_lookup_on_post, report_submission
from service.org import active_units
from service.schemas.messages import Phrase, translated
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


@bp.app_template_filter("people")
def people(codes: list[str]) -> str:
    """'raised with' or 'involved' answers, as the form offered them, in the page's language,
    joined with commas: a list of ticked boxes, not a sentence."""
    return ", ".join(label("person", code) for code in codes)


@bp.app_template_filter("translated")
def translated_filter(message: Any) -> str:
    """A schemas.messages.Phrase (a validation message, a status) in the page's language."""
    return translated(message)


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
        return None, {"org_unit": [translated(error.message)]}
    return data, {}


def _messages(messages: Any) -> dict[str, Any]:
    """Field -> its messages in the page's language, with list-item errors folded onto their
    field."""
    if not isinstance(messages, dict):
        return {"_form": [translated(messages)]}
    flat: dict[str, Any] = {}
    for field, value in messages.items():
        if isinstance(value, dict):
            value = [
                m for msgs in value.values() for m in (msgs if isinstance(msgs, list) else [msgs])
            ]
        flat[field] = [translated(m) for m in (value if isinstance(value, list) else [value])]
    return flat


def highlight(result) -> Markup:  # type: ignore[no-untyped-def]
    """The scrubbed text with each redaction marked, HTML-escaped."""
    parts: list[str] = []
    cursor = 0
    for start, end, kind in sorted(result.spans):
        title = _("Removed: %(what)s", what=removed_kind(kind, 1))
        parts.append(str(escape(result.text[cursor:start])))
        parts.append(
            f'<mark class="redacted" title="{escape(title)}">'
            f"{escape(result.text[start:end])}</mark>"
        )
        cursor = end
    parts.append(str(escape(result.text[cursor:])))
    return Markup("".join(parts))  # noqa: S704 - every piece above is escaped


def removed_kind(kind: str, n: int) -> str:
    """'2 names', '1 phone number': what the scrubber took out, in the page's language."""
    if kind == "name":
        words = Phrase.ngettext("%(num)s name", "%(num)s names", n)
    elif kind == "email":
        words = Phrase.ngettext("%(num)s email address", "%(num)s email addresses", n)
    elif kind == "phone":
        words = Phrase.ngettext("%(num)s phone number", "%(num)s phone numbers", n)
    elif kind == "url":
        words = Phrase.ngettext("%(num)s web address", "%(num)s web addresses", n)
    elif kind == "staff id":
        words = Phrase.ngettext("%(num)s staff ID", "%(num)s staff IDs", n)
    else:  # a kind added to the scrubber without words here yet
        return f"{format_decimal(n)} × {kind}"
    return translated(words)


def removed_summary(counts: dict[str, int]) -> Markup:
    """The preview's one sentence on what was removed, with a sample of the marking."""
    if not counts:
        return escape(_("Nothing needed to be removed."))
    what = ", ".join(removed_kind(kind, n) for kind, n in counts.items())
    marked = Markup('<mark class="redacted">%s</mark>') % _("marked")
    # The catalogue's words are ours (trusted); the values are escaped by Markup's %.
    return Markup(_("We removed %(what)s: they are %(marked)s below.")) % {  # noqa: S704
        "what": what,
        "marked": marked,
    }


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
        removed=removed_summary(scrubbed.counts),
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
REPLY_NOTICES = {
    "sent": N_("Your message was sent."),
    "already_sent": N_("This message was already sent."),
}


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
        "sent_on": submission.submitted_on.isoformat() if submission.submitted_on else None,
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
    sent_on = shown.get("sent_on")
    return render_template(
        "intake/receipt.html",
        receipt=shown.get("code") or None,
        sent_on=date.fromisoformat(sent_on) if isinstance(sent_on, str) else None,
        crisis=bool(shown.get("crisis")),
        again=bool(shown.get("again")),
        crisis_message=crisis_message(),
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
        crisis_message=crisis_message(),
    ), status


def crisis_message() -> str:
    """Where to get help at once: the organisation's own words if it set them
    (DEFUSE_CRISIS_MESSAGE, shown as written), else ours in the page's language."""
    configured = current_app.config["DEFUSE"].crisis_message
    return _(DEFAULT_CRISIS_MESSAGE) if configured == DEFAULT_CRISIS_MESSAGE else configured


def _reply_case_and_body(code: str):  # type: ignore[no-untyped-def]
    """(case, body, error response): the case behind the receipt and the validated reply."""
    case = service.find_case_by_receipt(code)
    if case is None:
        return None, None, (render_template("intake/follow_up.html", not_found=True), 404)
    draft = request.form.get("body") or ""
    if case.report.text_removed_on is not None or case.status == "closed":
        error = {"body": [_("This case is closed.")]}
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
        removed=removed_summary(scrubbed.counts),
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
        # Worded when shown, in the page's language then.
        "notice": "already_sent" if sent.replayed else "sent",
    }
    return redirect(url_for("intake.thread"), code=303)


@bp.get("/follow-up/thread")
def thread():  # type: ignore[no-untyped-def]
    """The thread right after a reply is sent, once: a reload asks for the code again, so the
    code is not kept in the browser's session for anyone who uses the device next."""
    shown = session.pop(THREAD_ONCE, None)
    case = service.find_case_by_receipt(shown.get("code", "")) if isinstance(shown, dict) else None
    if case is None:
        flash(_("To keep your report private, enter your receipt code again to see it."))
        return redirect(url_for("intake.follow_up"), code=303)
    notice = REPLY_NOTICES.get(shown.get("notice") or "")
    return _render_status(case, shown["code"], notice=_(notice) if notice else None)


# When sending fails (too many reports from one connection, a form open too long, the database
# away), the reporter's words must not be lost: the page that says so holds them again, from
# the request itself, with a button that sends them again. Nothing is stored meanwhile.
KEEPS_WORDS = {
    "intake.preview": ("text", N_("Your account"), N_("Preview my report")),
    "intake.submit": ("text", N_("Your account"), N_("Send report")),
    "intake.reply_preview": ("body", N_("Your message"), N_("Preview message")),
    "intake.reply": ("body", N_("Your message"), N_("Send message")),
}


def _words_kept(heading: str, reason: str, status: int, headers=None):  # type: ignore[no-untyped-def]
    text_field, text_label, retry_label = KEEPS_WORDS[request.endpoint or ""]
    page = render_template(
        "intake/not_sent.html",
        heading=heading,
        reason=reason,
        values=request.form,
        text_field=text_field,
        text_label=_(text_label),
        retry_label=_(retry_label),
        retry_url=request.path,
    )
    return page, status, headers or {}


@bp.errorhandler(429)
def _rate_limited(error):  # type: ignore[no-untyped-def]
    if request.endpoint not in KEEPS_WORDS:
        return error_pages.handle_http_exception(error)
    retry_after = {k: v for k, v in error.get_headers() if k.lower() == "retry-after"}
    return _words_kept(
        _("Not sent yet: please wait a while"),
        _(
            "Too many reports or messages have come from this connection recently, so this one "
            "was not sent. Please try again later, or from another connection."
        ),
        429,
        retry_after,
    )


@bp.errorhandler(CSRFError)
def _form_expired(error):  # type: ignore[no-untyped-def]
    if request.endpoint not in KEEPS_WORDS:
        return error_pages.handle_csrf_error(error)
    return _words_kept(
        _("Not sent yet: the page was open a long time"),
        _(
            "For your security the form expires after a while. Check your words below and send "
            "them again."
        ),
        400,
    )


@bp.errorhandler(DBAPIError)
def _database_failed(error):  # type: ignore[no-untyped-def]
    if request.endpoint not in KEEPS_WORDS or not error_pages.database_unavailable(error):
        return error_pages.handle_database_error(error)
    error_pages.rollback()
    return _words_kept(
        _("Not sent yet: the service is busy"),
        _("The service could not store this just now. Please try again in a minute."),
        503,
        {"Retry-After": "30"},
    )


@bp.after_request
def _no_store(response):  # type: ignore[no-untyped-def]
    # Receipts, previews and threads must never be kept by a browser or a proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response
