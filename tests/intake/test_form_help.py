"""The reporter's form helps instead of losing anything: messages that name their field, a
count instead of a silent cut, the words kept when sending fails, a warning for contact details
that will not be kept, and the form's own words (and language names) in the preview."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from service.db import Report
from service.extensions import db, limiter
from service.intake import service
from tests.conftest import make_app
from tests.factories import report_payload, seed_org
from tests.intake.test_form import csrf_token, form_data

LONG = ("It went on and on" + "." * 83) * 64  # 6,400 characters, more than the 5,000 allowed


def _reports() -> int:
    return db.session.scalar(select(func.count()).select_from(Report)) or 0


def _summary(page: str) -> list[str]:
    block = page.split('class="error-summary"')[1].split("</div>")[0]
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", block)]


def test_each_message_names_its_field(client, org):
    data = form_data(client, org, category="", text="")
    del data["org_unit"]
    page = client.post("/preview", data=data).get_data(as_text=True)
    summary = _summary(page)
    assert summary == [
        "Where it is happening: choose the team or department.",
        "Kind of concern: choose the kind of concern.",
        "Your account: write at least 20 characters (it has 0).",
    ]
    assert len(set(summary)) == len(summary)
    assert "Missing data for required field." not in page


def test_api_field_messages_name_the_field(client, org):
    payload = report_payload(org)
    del payload["org_unit"], payload["category"]
    fields = client.post("/api/v1/reports", json=payload).get_json()["error"]["fields"]
    assert fields == {
        "org_unit": ["Where it is happening: choose the team or department."],
        "category": ["Kind of concern: choose the kind of concern."],
    }
    bad = client.post("/api/v1/reports", json=report_payload(org, urgency="soon")).get_json()
    assert bad["error"]["fields"]["urgency"][0].startswith("Urgency: must be one of:")


def test_text_over_the_limit_is_refused_with_how_much_never_cut(client, org):
    page = client.get("/").get_data(as_text=True)
    box = re.search(r'<textarea id="text"[^>]*>', page).group(0)
    assert "maxlength" not in box  # a browser would silently cut a long paste
    assert 'data-limit="5000"' in box and "text-count" in box
    assert "0 of 5,000 characters" in page

    response = client.post("/preview", data=form_data(client, org, text=LONG))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Your account is 6,400 characters, 1,400 characters over the limit of 5,000." in page
    assert "6,400 of 5,000 characters: 1,400 too many" in page
    assert LONG.strip() in page  # all of it is still in the box
    assert _reports() == 0


@pytest.mark.parametrize(("length", "accepted"), [(5000, True), (5001, False)])
def test_the_limit_itself(client, org, length, accepted):
    text = ("x" * (length - 1)) + "."
    status = client.post("/preview", data=form_data(client, org, text=text)).status_code
    assert status == (200 if accepted else 422)


def test_a_reply_over_the_limit_says_by_how_much(client, org):
    receipt = client.post("/api/v1/reports", json=report_payload(org)).get_json()["receipt"]
    response = client.post(
        "/follow-up/reply/preview",
        data={"csrf_token": csrf_token(client, "/follow-up"), "receipt": receipt, "body": LONG},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Your message is 6,400 characters, 1,400 characters over the limit" in page
    assert "maxlength" not in re.search(r'<textarea id="body"[^>]*>', page).group(0)


@pytest.fixture
def limited(settings):  # type: ignore[no-untyped-def]
    app = make_app(settings.replace(rate_limits_enabled=True, rate_limit_reports="1 per hour"))
    with app.app_context():
        limiter.reset()
        yield app, seed_org()


def test_the_words_are_kept_when_rate_limited(limited):
    app, org = limited
    client = app.test_client()
    assert client.post("/submit", data=form_data(client, org)).status_code == 303
    words = "Second report: the rota changed again and nobody told us until the morning."
    response = client.post("/submit", data=form_data(client, org, text=words))
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert f">{words}</textarea>" in page and "Not sent yet" in page
    # The retry sends everything again: the other answers travel as hidden fields.
    assert '<input type="hidden" name="category" value="bullying">' in page
    assert 'action="/submit"' in page
    assert _reports() == 1


def test_the_words_are_kept_when_the_database_is_away(client, org, monkeypatch):
    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(service, "submit_report", down)
    words = "The rota changed again and nobody told us until the morning it started."
    response = client.post("/submit", data=form_data(client, org, text=words))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert f">{words}</textarea>" in response.get_data(as_text=True)


def test_the_words_are_kept_when_the_form_expired(client, org):
    data = form_data(client, org)
    data["csrf_token"] = "expired"
    response = client.post("/submit", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "It has gone on for months.</textarea>" in page
    assert re.search(r'name="csrf_token" value="(?!expired)[^"]+"', page)  # a fresh token
    assert _reports() == 0


def test_contact_typed_without_the_tick_is_warned_about(client, org):
    warned = client.post("/preview", data=form_data(client, org, contact="desk 4411"))
    assert 'id="contact-warning"' in warned.get_data(as_text=True)
    kept = client.post(
        "/preview", data=form_data(client, org, contact="desk 4411", wants_contact="yes")
    )
    assert 'id="contact-warning"' not in kept.get_data(as_text=True)
    blank = client.post("/preview", data=form_data(client, org, contact="  "))
    assert 'id="contact-warning"' not in blank.get_data(as_text=True)


def test_languages_by_name_and_the_preview_in_the_form_s_words(client, org):
    form = client.get("/").get_data(as_text=True)
    assert '<option value="de" >Deutsch (German)</option>' in form
    assert ">English</option>" in form and ">de</option>" not in form
    page = client.post(
        "/preview", data=form_data(client, org, language="de", urgency="urgent")
    ).get_data(as_text=True)
    assert "<dd>It is urgent</dd>" in page and "<dd>urgent</dd>" not in page
    assert "<dd>Deutsch (German)</dd>" in page
    assert "<dd>My manager, A peer</dd>" in page


def test_a_body_too_large_is_explained_in_plain_words(client, org):
    data = form_data(client, org, text="x" * 70_000)  # beyond DEFUSE_MAX_REQUEST_BYTES
    response = client.post("/preview", data=data)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Too large to send" in page and "up to 5,000 characters" in page
    assert "capacity limit" not in page  # the framework's wording
