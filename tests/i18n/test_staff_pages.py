"""The Trust Leader's pages in German and French: the queue, a case, the confirm step and the
availability page read in the chosen language, with no English left of their known texts;
flash messages and refusals after an action too; dates as the language writes them. The JSON
API keeps speaking English whatever the language cookie says."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from functools import cache

import pytest
from babel.dates import format_date
from babel.messages.pofile import read_po

from service.db import Case, utcnow
from service.extensions import db
from service.i18n import LANGUAGE_COOKIE, TRANSLATIONS_DIR
from tests.cases.support import bearer, case_for, post_form, signed_in

QUEUE_TEXTS = (
    "Case queue",
    "Highest risk first, then the nearest deadline.",
    "Going away? Set your availability",
    "Cases, highest risk first",
    "Deadline",
    "Risk level",
)
CASE_TEXTS = (
    "Back to the queue",
    "Why this risk level",
    "What the reporter told us",
    "Messages with the reporter",
    "Message to the reporter",
    "Do not ask for their name or anything that would identify them.",
    "Listening guide",
    "Save checklist",
    "Private notes",
    "Only Trust Leaders and leads see these; never the reporter.",
    "Feedback to the reporter",
    "Extend the feedback deadline",
    "Mark as withdrawn",
    "Attending",  # a section of the checklist (a behaviour of the guide)
)
CONFIRM_TEXTS = (
    "Do this only when the reporter has said they want to stop. The case leaves your open "
    "queue; a lead can undo it until the case is closed.",
    "Yes, mark as withdrawn",
    "No, go back",
)
AVAILABILITY_TEXTS = (
    "Your availability",
    "While you are away, no new cases are assigned to you. Cases you already have stay with "
    "you; ask a lead to reassign them if they cannot wait.",
    "The last day you are away.",
    "I am available now",
)


@cache
def _catalogue(code: str):  # type: ignore[no-untyped-def]
    with open(TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=code)


def tr(code: str, msgid: str, **params: object) -> str:
    """The catalogue's translation of `msgid`, filled in: what the page must show."""
    entry = _catalogue(code).get(msgid)
    assert entry is not None and entry.string, f"{code}: no translation of {msgid!r}"
    return entry.string % params if params else entry.string


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    # Entities undone (’ and « » may be written either way) and spaces made plain.
    text = html_lib.unescape(response.get_data(as_text=True))
    return re.sub(r"[\u00a0\u202f]", " ", text)


def html_lang(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "no <html lang>"
    return match.group(1)


def assert_in_language(code: str, page: str, texts: tuple[str, ...]) -> None:
    for english in texts:
        translated = tr(code, english)
        assert translated != english, f"{code}: {english!r} is not translated"
        assert translated in page, f"{code}: {translated!r} missing"
        assert english not in page, f"{code}: English {english!r} left on the page"


@pytest.fixture(params=["de", "fr"])
def code(request) -> str:  # type: ignore[no-untyped-def]
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def leader(app, org, code):  # type: ignore[no-untyped-def]
    client = signed_in(app, "leader@demo.defuse")
    client.set_cookie(LANGUAGE_COOKIE, code)
    return client


def test_the_queue_reads_in_the_chosen_language(org, leader, code):
    case = case_for(org, org.staff["leader"], level="high")
    response = leader.get("/cases")
    assert response.status_code == 200 and html_lang(response) == code
    page = text_of(response)
    assert_in_language(code, page, QUEUE_TEXTS)
    assert tr(code, "Case %(id)s", id=case.id) in page
    assert tr(code, "High") in page and tr(code, "New") in page  # level and status labels
    assert f"Case {case.id}<" not in page


def test_a_case_reads_in_the_chosen_language_with_its_dates(org, leader, code):
    # High risk: the guide then has steps of that level, which carry a level badge.
    case = case_for(org, org.staff["leader"], level="high")
    response = leader.get(f"/cases/{case.id}")
    assert response.status_code == 200 and html_lang(response) == code
    page = text_of(response)
    assert_in_language(code, page, CASE_TEXTS)
    opened = format_date(case.opened_at.date(), "long", locale=code)
    assert f"{opened}, {case.opened_at:%H:%M} UTC" in page
    # Not the English way of writing the same day.
    assert format_date(case.opened_at.date(), "long", locale="en_GB") not in page
    assert tr(code, "Feedback is due within three months.") in page
    assert f'<span class="badge">{tr(code, "High")}</span>' in page


def test_a_flash_after_an_action_is_in_the_chosen_language(org, leader, code):
    case = case_for(org, org.staff["leader"])
    path = f"/cases/{case.id}"
    moved = post_form(leader, f"{path}/status", {"status": "acknowledged"}, page=path)
    assert moved.status_code == 302
    page = text_of(leader.get(path))
    status = tr(code, "Acknowledged")
    assert tr(code, "Case %(id)s is now: %(status)s.", id=case.id, status=status) in page
    assert "is now: acknowledged" not in page

    noted = post_form(leader, f"{path}/notes", {"note_body": "Called them."}, page=path)
    assert noted.status_code == 302
    assert tr(code, "Note added.") in text_of(leader.get(path))


def test_a_refusal_is_explained_in_the_chosen_language(org, leader, code):
    case = case_for(org, org.staff["leader"])
    path = f"/cases/{case.id}"
    refused = post_form(leader, f"{path}/status", {"status": "in_conversation"}, page=path)
    assert refused.status_code == 409
    page = text_of(refused)
    allowed = ("Acknowledged", "Withdrawn", "Closed (with its resolution)")
    choices = ", ".join(tr(code, label) for label in allowed)
    expected = tr(
        code,
        "A case that is %(status)s cannot become %(target)s. It can move to: %(next)s.",
        status=tr(code, "New"),
        target=tr(code, "In conversation"),
        next=choices,
    )
    assert expected in page
    assert "It can move to" not in page and tr(code, "That was not saved") in page

    empty = post_form(leader, f"{path}/notes", {"note_body": "   "}, page=path)
    assert empty.status_code == 422
    assert tr(code, "Write something first.") in text_of(empty)


def test_the_confirm_step_reads_in_the_chosen_language(org, leader, code):
    case = case_for(org, org.staff["leader"])
    path = f"/cases/{case.id}"
    asked = post_form(leader, f"{path}/status", {"status": "withdrawn"}, page=path)
    assert asked.status_code == 200 and html_lang(asked) == code
    page = text_of(asked)
    assert 'id="confirm-form"' in page
    assert_in_language(code, page, CONFIRM_TEXTS)
    assert tr(code, "Mark case %(id)s as withdrawn?", id=case.id) in page
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "new"  # nothing happens unconfirmed


def test_the_availability_page_and_its_flash_read_in_the_chosen_language(org, leader, code):
    response = leader.get("/cases/availability")
    assert response.status_code == 200 and html_lang(response) == code
    assert_in_language(code, text_of(response), AVAILABILITY_TEXTS[:3])

    away = (utcnow() + timedelta(days=10)).date()
    saved = post_form(leader, "/cases/availability", {"away_until": away.isoformat()})
    assert saved.status_code == 302
    page = text_of(leader.get("/cases/availability"))
    written = format_date(away, "long", locale=code)
    flashed = tr(code, "You are marked away until %(date)s: no new cases until then.", date=written)
    assert flashed in page
    assert_in_language(code, page, AVAILABILITY_TEXTS[3:])
    assert away.isoformat() + ":" not in page  # the date is written out, not in ISO form

    past = post_form(leader, "/cases/availability", {"away_until": "2001-01-01"})
    assert past.status_code == 422
    assert tr(code, "Choose today or a later date, or clear it.") in text_of(past)


def test_english_pages_write_dates_the_british_way(app, org):
    client = signed_in(app, "leader@demo.defuse")
    client.set_cookie(LANGUAGE_COOKIE, "en")
    case = case_for(org, org.staff["leader"])
    response = client.get(f"/cases/{case.id}")
    assert html_lang(response) == "en"
    page = text_of(response)
    day = case.opened_at.date()
    assert f"{day.day} {format_date(day, 'MMMM', locale='en')} {day.year}" in page
    assert format_date(day, "long", locale="en_US") not in page  # not "December 2, 2026"


def test_the_api_keeps_english_whatever_the_language(app, org, code):
    case = case_for(org, org.staff["leader"])
    client = app.test_client()
    client.set_cookie(LANGUAGE_COOKIE, code)
    response = client.post(
        f"/api/v1/cases/{case.id}/transition",
        json={"status": "in_conversation"},
        headers={**bearer(org.staff["leader"]), "Accept-Language": code},
    )
    assert response.status_code == 409
    message = response.get_json()["error"]["message"]
    assert message.startswith("A case that is new cannot become in conversation.")
    assert message.endswith(
        "It can move to: Acknowledged, Withdrawn, Closed (with its resolution)."
    )
