"""The reporter's pages in each language the form offers: form, preview, receipt, follow-up and
status read in the reader's language (checked against the shipped catalogue, not hard-coded
words), with `<html lang>` to match, dates and numbers written the locale's way, validation
messages and the crisis message translated. The JSON API keeps its English messages."""

from __future__ import annotations

import copy
import pickle
import re
from dataclasses import replace
from datetime import date

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import Translations
from flask_babel import force_locale
from markupsafe import escape
from marshmallow import ValidationError
from sqlalchemy import func, select

from service.config import DEFAULT_CRISIS_MESSAGE
from service.db import Message, Report
from service.extensions import db
from service.i18n import LANGUAGE_COOKIE, REPORTER_LOCALES, TRANSLATIONS_DIR
from service.schemas.messages import Phrase, translated
from service.schemas.reports import TEXT_MAX, ReportCreateSchema
from tests.cases.support import submit
from tests.factories import import_demo_org, report_payload
from tests.i18n.test_pages import html_lang
from tests.intake.test_crisis import SELF_HARM
from tests.intake.test_form import csrf_token, form_data, receipt_code

OTHER_LOCALES = [code for code in REPORTER_LOCALES if code != "en"]


def words(code: str, msgid: str, **values: str) -> str:
    """A text as the shipped catalogue has it for `code`, as a page shows it (HTML-escaped)."""
    text = Translations.load(str(TRANSLATIONS_DIR), [code]).ugettext(msgid)
    if code != "en":
        assert text != msgid, f"{code} has no translation of {msgid!r}"
    return str(escape(text % values if values else text))


def plural(code: str, singular: str, plural_: str, n: int) -> str:
    text = Translations.load(str(TRANSLATIONS_DIR), [code]).ungettext(singular, plural_, n)
    return str(escape(text % {"num": format_decimal(n, locale=code)}))


def in_language(client, code: str):  # type: ignore[no-untyped-def]
    client.set_cookie(LANGUAGE_COOKIE, code)
    return client


def sent_receipt(client, org, **overrides) -> str:  # type: ignore[no-untyped-def]
    response = client.post("/submit", data=form_data(client, org, **overrides))
    assert response.status_code == 303
    return client.get("/receipt").get_data(as_text=True)


def status_page(client, code: str) -> str:  # type: ignore[no-untyped-def]
    return client.post(
        "/follow-up", data={"csrf_token": csrf_token(client, "/follow-up"), "receipt": code}
    ).get_data(as_text=True)


# --- each page, in each language ---------------------------------------------------------------


@pytest.mark.parametrize("code", REPORTER_LOCALES)
def test_the_form_is_in_the_readers_language(client, org, code):
    response = in_language(client, code).get("/")
    page = response.get_data(as_text=True)
    assert html_lang(response) == code
    assert words(code, "Report a workplace concern") in page
    assert words(code, "Bullying or intimidation") in page  # the labels of service/labels.py
    assert words(code, "It is urgent") in page
    assert words(code, "My manager") in page
    # The limits as the locale writes numbers: 5,000 / 5.000 / 5 000.
    hint = words(
        code,
        "In your own words, %(min)s to %(max)s characters. You do not need to name anyone.",
        min=format_decimal(20, locale=code),
        max=format_decimal(TEXT_MAX, locale=code),
    )
    assert hint in page
    if code != "en":
        assert "Report a workplace concern" not in page
        assert "What is happening?" not in page


@pytest.mark.parametrize("code", REPORTER_LOCALES)
def test_the_preview_is_in_the_readers_language(client, org, code):
    response = in_language(client, code).post("/preview", data=form_data(client, org))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and html_lang(response) == code
    assert words(code, "Check your report before sending") in page
    assert words(code, "Send report") in page
    assert words(code, "A conversation about it") in page  # the answer, in the form's words
    # One phone number and one email address were taken out of the account.
    assert plural(code, "%(num)s phone number", "%(num)s phone numbers", 1) in page
    assert plural(code, "%(num)s email address", "%(num)s email addresses", 1) in page
    if code != "en":
        assert "Check your report before sending" not in page
        assert "phone number" not in page


@pytest.mark.parametrize("code", REPORTER_LOCALES)
def test_the_receipt_is_in_the_readers_language_with_the_day_written_its_way(client, org, code):
    in_language(client, code)
    page = sent_receipt(client, org)
    assert html_lang_of(page) == code
    assert words(code, "Thank you. Your report has been received.") in page
    assert receipt_code(page)
    stored = db.session.execute(select(Report)).scalar_one().submitted_on
    day = format_date(stored, "long", locale=code)
    assert words(code, "Sent on %(date)s.", date=day) in page
    assert stored.isoformat() not in page
    if code != "en":
        assert "Thank you. Your report has been received." not in page


@pytest.mark.parametrize("code", REPORTER_LOCALES)
def test_follow_up_and_status_are_in_the_readers_language(client, org, code):
    _, receipt = submit(org)
    in_language(client, code)
    follow_up = client.get("/follow-up")
    assert html_lang(follow_up) == code
    assert words(code, "Follow up on your report") in follow_up.get_data(as_text=True)
    page = status_page(client, receipt)
    assert html_lang_of(page) == code
    assert words(code, "Received: waiting for a Trust Leader") in page
    assert words(code, "Write to your Trust Leader") in page
    stored = db.session.execute(select(Report)).scalar_one().submitted_on
    assert f'id="report-sent-on">{escape(format_date(stored, "long", locale=code))}<' in page
    if code != "en":
        assert "Received: waiting for a Trust Leader" not in page


def html_lang_of(page: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', page)
    assert match, "no <html lang>"
    return match.group(1)


def test_german_and_french_dates_are_written_their_way(client, org):
    # Babel's own formats above; here, what a reader of each expects to see.
    pattern = {
        "en": r"[A-Z][a-z]+ \d{1,2}, \d{4}",
        "de": r"\d{1,2}\. [A-ZÄÖÜ][a-zäöü]+ \d{4}",
        "fr": r"\d{1,2}(er)? [a-zéû]+ \d{4}",
    }
    for code, shape in pattern.items():
        in_language(client, code)
        page = sent_receipt(client, org, text=f"Report number {code}: the rota changes daily.")
        sent_on = re.search(r'id="receipt-sent-on">(.*?)</p>', page)
        assert sent_on and re.search(shape, sent_on.group(1)), (code, sent_on)


def test_the_form_follows_accept_language(client, org):
    # The acceptance check: no cookie, only the browser's language.
    for code in ("de", "fr"):
        page = client.get("/", headers={"Accept-Language": code}).get_data(as_text=True)
        assert words(code, "Where is this happening?") in page
        assert "Where is this happening?" not in page


# --- validation messages -------------------------------------------------------------------------


def test_a_german_reader_gets_the_forms_errors_in_german(client, org):
    in_language(client, "de")
    response = client.post("/preview", data=form_data(client, org, category="", org_unit=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    kind = words("de", "Kind of concern")
    assert words("de", "%(field)s: choose the kind of concern.", field=kind) in page
    where = words("de", "Where it is happening")
    assert words("de", "%(field)s: choose the team or department.", field=where) in page
    # Two errors: the plural.
    assert plural("de", "Please check this:", "Please check these:", 2) in page
    assert "choose the kind of concern" not in page and "Kind of concern" not in page


def test_a_too_long_account_is_measured_in_german_numbers(client, org):
    in_language(client, "de")
    text = "a" * 6600
    page = client.post("/preview", data=form_data(client, org, text=text)).get_data(as_text=True)
    # Over the limit: the message, and the counter, count with German digit grouping.
    assert "6.600 Zeichen" in page and "1.600 Zeichen" in page and "5.000" in page
    assert "6,600" not in page and "characters" not in page
    assert 'class="hint counter over-limit"' in page


def test_a_short_account_is_refused_in_french_with_its_length(client, org):
    in_language(client, "fr")
    page = client.post("/preview", data=form_data(client, org, text="Trop court.")).get_data(
        as_text=True
    )
    assert "écrivez au moins 20 caractères (il y en a 11)" in page


def test_a_retired_unit_is_refused_in_the_readers_language(client, org):
    import_demo_org(without=("Transport",))
    in_language(client, "fr")
    data = form_data(client, org, org_unit=str(org.unit("Transport")))
    page = client.post("/preview", data=data).get_data(as_text=True)
    message = "%(field)s: this org unit has been retired; choose another from the list."
    assert words("fr", message, field=words("fr", "Where it is happening")) in page


def test_the_api_keeps_english_messages_whatever_the_browser_says(client, org):
    response = client.post(
        "/api/v1/reports",
        json=report_payload(org, text="short"),
        headers={"Accept-Language": "de"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["text"] == [
        "Your account: write at least 20 characters (it has 5)."
    ]
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


# --- the crisis message --------------------------------------------------------------------------


def test_a_french_reader_gets_the_crisis_message_in_french(client, org):
    in_language(client, "fr")
    receipt = sent_receipt(client, org, text=SELF_HARM)
    assert 'id="crisis-support"' in receipt
    assert words("fr", DEFAULT_CRISIS_MESSAGE) in receipt
    assert words("fr", "Help is available now") in receipt
    assert str(escape(DEFAULT_CRISIS_MESSAGE)) not in receipt
    status = status_page(client, receipt_code(receipt))
    assert words("fr", DEFAULT_CRISIS_MESSAGE) in status


def test_an_organisations_own_crisis_message_is_shown_as_written(app, client, org):
    own = "Appelez le 3114, jour et nuit, ou le 112."
    app.config["DEFUSE"] = replace(app.config["DEFUSE"], crisis_message=own)
    in_language(client, "de")
    receipt = sent_receipt(client, org, text=SELF_HARM)
    assert own in receipt
    assert words("de", DEFAULT_CRISIS_MESSAGE) not in receipt


# --- Phrase: one wording, two readers ------------------------------------------------------------


def test_a_phrase_is_english_text_that_a_page_words_again(app):
    schema = ReportCreateSchema()
    with pytest.raises(ValidationError) as raised:
        schema.load({"org_unit": 1, "category": "revenge", "text": "x" * (TEXT_MAX + 1)})
    messages = raised.value.messages
    (category,) = messages["category"]
    (text,) = messages["text"]
    assert category.startswith("Kind of concern: must be one of: harassment, bullying")
    assert text == (
        "Your account is 5,001 characters, 1 character over the limit of 5,000. "
        "Please shorten it: nothing has been cut."
    )
    with app.test_request_context(), force_locale("de"):
        german = translated(text)
    assert german.startswith("Ihr Bericht hat 5.001 Zeichen, 1 Zeichen mehr")
    with app.test_request_context(), force_locale("fr"):
        french_category = translated(category)
    assert french_category.startswith("Type de situation : doit être l’une de ces valeurs")
    assert "harassment, bullying" in french_category  # the codes, as the API takes them


def test_a_phrase_survives_copying_and_pickling_and_leaves_plain_text_alone(app):
    phrase = Phrase.ngettext("%(num)s character", "%(num)s characters", 1)
    assert phrase == "1 character" and Phrase.ngettext(phrase.msgid, phrase.plural, 2) == (
        "2 characters"
    )
    for again in (copy.deepcopy(phrase), pickle.loads(pickle.dumps(phrase))):
        assert again == phrase and again.msgid == phrase.msgid and again.values == {"num": 1}
    with app.test_request_context(), force_locale("de"):
        assert translated("not a phrase") == "not a phrase"
        assert translated(Phrase.ngettext(phrase.msgid, phrase.plural, 1000)) == "1.000 Zeichen"


def test_the_threads_days_are_written_the_locales_way_and_never_finer(client, org):
    case, receipt = submit(org)
    day = date(2026, 3, 9)
    db.session.add(
        Message(case_id=case.id, from_reporter=False, body="Danke, ich melde mich.", created_at=day)
    )
    db.session.commit()
    in_language(client, "de")
    page = status_page(client, receipt)
    assert words("de", "Your Trust Leader, %(date)s", date="9. März 2026") in page
    assert "2026-03-09" not in page and "00:00" not in page
