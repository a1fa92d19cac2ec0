"""Which language a page is in: the switcher's choice, else the browser's Accept-Language;
reporter pages in every offered language, staff pages in the staff languages only."""

from __future__ import annotations

import re

import pytest

from service.i18n import LANGUAGE_COOKIE, REPORTER_LOCALES, STAFF_LOCALES
from tests.cases.support import csrf_token

# The sign-in link in the header, as each catalogue has it.
STAFF_SIGN_IN = {
    "en": "Staff sign-in",
    "de": "Anmeldung für Mitarbeitende",
    "fr": "Connexion du personnel",
}


def html_lang(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "no <html lang>"
    return match.group(1)


@pytest.mark.parametrize("code", REPORTER_LOCALES)
def test_the_form_is_in_the_browsers_language(client, org, code):
    response = client.get("/", headers={"Accept-Language": f"{code}-XX,{code};q=0.9,en;q=0.5"})
    assert response.status_code == 200
    assert html_lang(response) == code


@pytest.mark.parametrize("code", ["de", "fr"])
def test_german_and_french_pages_read_in_their_language(client, org, code):
    page = client.get("/", headers={"Accept-Language": code}).get_data(as_text=True)
    assert STAFF_SIGN_IN[code] in page
    assert STAFF_SIGN_IN["en"] not in page


def test_an_unoffered_language_falls_back_to_english(client, org):
    response = client.get("/", headers={"Accept-Language": "ja,zh;q=0.8"})
    assert html_lang(response) == "en"
    assert STAFF_SIGN_IN["en"] in response.get_data(as_text=True)


def test_the_switcher_choice_beats_the_browser_and_holds_only_the_code(client, org):
    response = client.post(
        "/language",
        data={"csrf_token": csrf_token(client, "/"), "language": "fr", "next": "/follow-up"},
        headers={"Accept-Language": "de"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/follow-up")
    cookie = client.get_cookie(LANGUAGE_COOKIE)
    assert cookie is not None and cookie.value == "fr"
    assert html_lang(client.get("/follow-up", headers={"Accept-Language": "de"})) == "fr"


def test_the_switcher_ignores_an_unknown_language_and_an_off_site_target(client, org):
    response = client.post(
        "/language",
        data={"csrf_token": csrf_token(client, "/"), "language": "xx", "next": "//evil.example"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert client.get_cookie(LANGUAGE_COOKIE) is None


@pytest.mark.parametrize("code", sorted(set(REPORTER_LOCALES) - set(STAFF_LOCALES)))
def test_staff_pages_fall_back_to_english_outside_the_staff_languages(client, org, code):
    client.set_cookie(LANGUAGE_COOKIE, code)
    assert html_lang(client.get("/login")) == "en"
    assert html_lang(client.get("/")) == code


@pytest.mark.parametrize("code", STAFF_LOCALES)
def test_staff_pages_exist_in_the_staff_languages(client, org, code):
    client.set_cookie(LANGUAGE_COOKIE, code)
    response = client.get("/login")
    assert html_lang(response) == code
    assert f"<h1>{STAFF_SIGN_IN[code]}</h1>" in response.get_data(as_text=True)
