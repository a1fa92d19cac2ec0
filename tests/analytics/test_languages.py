"""The HR dashboard and "You said, we did" in the reader's language: texts from the
catalogues, month and quarter names, numbers and percentages formatted for the locale. The
public page exists in every language the form offers; the staff pages beside it in the staff
languages only."""

from __future__ import annotations

import re

import pytest

from service.analytics import periods
from service.analytics.feedback import released_quarters
from service.db import PublishedAction, utcnow
from service.extensions import db
from service.i18n import LANGUAGE_COOKIE, REPORTER_LOCALES, STAFF_LOCALES
from tests.analytics.helpers import released_months, spread
from tests.cases.support import sign_in

ENGLISH_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
GERMAN_MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]
FRENCH_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
# How each language names a quarter (CLDR), and the category "Workload" (the catalogues).
QUARTER_WORD = {
    "en": "quarter",
    "de": "Quartal",
    "fr": "trimestre",
    "es": "trimestre",
    "nl": "kwartaal",
    "pl": "kwartał",
    "it": "trimestre",
    "pt": "trimestre",
}
WORKLOAD = {
    "en": "Workload",
    "de": "Arbeitslast",
    "fr": "Charge de travail",
    "es": "Carga de trabajo",
    "nl": "Werkdruk",
    "pl": "Obciążenie pracą",
    "it": "Carico di lavoro",
    "pt": "Carga de trabalho",
}


def html_lang(page: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', page)
    assert match, "no <html lang>"
    return match.group(1)


def switcher_codes(page: str) -> list[str]:
    switcher = page.split('id="language-switcher"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]+)"', switcher)


def headline(page: str, name: str) -> str:
    return page.split(f'id="headline-{name}"')[1].split("</li>")[0]


def year_and_month(month: periods.Period) -> tuple[int, int]:
    year, number = month.label.split("-")
    return int(year), int(number)


@pytest.fixture
def two_months(org):  # type: ignore[no-untyped-def]
    months = released_months(2)
    for count, month in zip((20, 26), months, strict=True):
        spread(org.unit("Warehouse North"), month, count, level="low", score=0.2)
        spread(org.unit("Warehouse South"), month, 10, level="high", score=0.7)
    return months


def test_the_dashboard_in_german(client, org, two_months):
    sign_in(client, "hr@demo.defuse")
    client.set_cookie(LANGUAGE_COOKIE, "de")
    response = client.get("/analytics?depth=2")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert html_lang(page) == "de"
    assert "<h1>Risiko-Übersicht</h1>" in page and "Risk dashboard</h1>" not in page
    year, number = year_and_month(two_months[-1])
    assert f"{GERMAN_MONTHS[number - 1]} {year} auf einen Blick" in page
    assert "+6 gegenüber dem Vormonat" in headline(page, "reports")
    assert "28\u00a0%" in headline(page, "high")  # 10 of 36, with a no-break space in German
    assert "Meldungen nach Organisationseinheit (Zeilen) und Zeitraum (Spalten)" in page
    assert ">ausgeblendet<" in page and ">suppressed<" not in page
    assert '<option value="month" selected>Monatlich</option>' in page
    chart = page.split('id="heatmap-title"')[1].split("</svg>")[0]
    assert "Meldungen" in chart and "mittleres Risiko 0,20" in chart  # decimal comma


def test_the_dashboard_in_french(client, org, two_months):
    sign_in(client, "hr@demo.defuse")
    client.set_cookie(LANGUAGE_COOKIE, "fr")
    page = client.get("/analytics").get_data(as_text=True)
    assert html_lang(page) == "fr"
    assert "<h1>Tableau de bord des risques</h1>" in page
    year, number = year_and_month(two_months[-1])
    assert f"{FRENCH_MONTHS[number - 1]} {year} en un coup d’œil" in page
    assert "+6 par rapport au mois précédent" in headline(page, "reports")
    assert re.search(r"28\s%", headline(page, "high"))  # French puts a space before %
    assert "on the month before" not in page


def test_the_dashboard_stays_english_for_an_english_reader(client, org, two_months):
    sign_in(client, "hr@demo.defuse")
    page = client.get("/analytics", headers={"Accept-Language": "en"}).get_data(as_text=True)
    year, number = year_and_month(two_months[-1])
    assert f"{ENGLISH_MONTHS[number - 1]} {year} at a glance" in page
    assert "28%" in headline(page, "high")


def test_a_filter_error_is_in_words_in_german(client, org):
    sign_in(client, "hr@demo.defuse")
    client.set_cookie(LANGUAGE_COOKIE, "de")
    response = client.get("/analytics?from=2026-05-01&to=2026-04-01")
    assert response.status_code == 400
    alert = response.get_data(as_text=True).split('role="alert"')[1].split("</div>")[0]
    assert "Erster Tag: Der erste Tag darf nicht nach dem letzten Tag liegen." in alert
    wrong = client.get("/analytics?period=fortnight&from=2025-13-40").get_data(as_text=True)
    alert = wrong.split('role="alert"')[1].split("</div>")[0]
    assert "Zeitraum: Wählen Sie Wochen, Monate oder Quartale." in alert
    assert "Erster Tag: Geben Sie ein Datum ein" in alert
    assert "Must be" not in alert and "Not a valid" not in alert


def published_workload(org):  # type: ignore[no-untyped-def]
    quarter = released_quarters()[0]
    for month in periods.months_of(quarter):
        spread(org.unit("Warehouse North"), month, 6, category="workload")
        spread(org.unit("Call Centre"), month, 6, category="workload")
    db.session.add(
        PublishedAction(
            quarter=quarter.start,
            org_unit_id=org.unit("Operations"),
            category="workload",
            text="Rotas are now published two weeks ahead.",
            written_by_id=org.staff["lead"].id,
            written_at=utcnow(),
            published_at=utcnow(),
            published_by_id=org.staff["lead"].id,
        )
    )
    db.session.commit()
    return quarter


@pytest.mark.parametrize("code", REPORTER_LOCALES)
def test_the_public_page_is_in_every_form_language(client, org, code):
    quarter = published_workload(org)
    client.set_cookie(LANGUAGE_COOKIE, code)
    response = client.get("/you-said-we-did")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert html_lang(page) == code
    assert switcher_codes(page) == list(REPORTER_LOCALES)
    heading = page.split(f'<h2 id="q-{quarter.label}">')[1].split("</h2>")[0]
    assert QUARTER_WORD[code] in heading and quarter.label[:4] in heading
    assert f"<strong>{WORKLOAD[code]}:</strong>" in page  # the action's theme
    assert "Rotas are now published two weeks ahead." in page  # as its writer wrote it
    english = ("<h1>You said, we did</h1>", "<h4>You said</h4>", "What staff raised each")
    if code == "en":
        assert all(text in page for text in english)
    else:
        assert not any(text in page for text in english)


@pytest.mark.parametrize("code", sorted(set(REPORTER_LOCALES) - set(STAFF_LOCALES)))
def test_the_staff_page_beside_it_stays_in_the_staff_languages(client, org, code):
    sign_in(client, org.staff["lead"].email)
    client.set_cookie(LANGUAGE_COOKIE, code)
    page = client.get("/staff/you-said-we-did").get_data(as_text=True)
    assert html_lang(page) == "en"
    assert switcher_codes(page) == list(STAFF_LOCALES)
    assert html_lang(client.get("/you-said-we-did").get_data(as_text=True)) == code


def test_the_staff_page_in_french(client, org):
    quarter = released_quarters()[0]
    sign_in(client, org.staff["lead"].email)
    client.set_cookie(LANGUAGE_COOKIE, "fr")
    page = client.get("/staff/you-said-we-did").get_data(as_text=True)
    assert "Enregistrer comme brouillon" in page and "Save as draft" not in page
    number = quarter.label[-1]
    assert f"{number}{'er' if number == '1' else 'e'} trimestre {quarter.label[:4]}" in page
