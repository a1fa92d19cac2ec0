"""Bidirectional controls in report text are neutralised wherever it is shown, while Arabic and
Hebrew still display (dir="auto")."""

from __future__ import annotations

import csv
import io

import pytest

from service.bidi import neutralise
from service.db import OrgUnit
from service.extensions import db
from tests.analytics.test_dashboard import seed
from tests.cases.support import case_for, signed_in

RLO, PDF, RLI, PDI, LRE = "\u202e", "\u202c", "\u2067", "\u2069", "\u202a"
CONTROLS = [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]


@pytest.mark.parametrize("control", CONTROLS)
def test_every_embedding_override_and_isolate_is_removed(control):
    assert neutralise(f"he said {control}tnemeergA{PDF} ok") == "he said tnemeergA ok"


def test_characters_next_to_the_range_are_kept():
    # U+2029 and U+202F border the embedding range; U+2065 and U+206A border the isolates.
    for kept in ("\u2029", "\u202f", "\u2065", "\u206a"):
        assert neutralise(f"a{kept}b") == f"a{kept}b"


def test_direction_marks_stay_in_right_to_left_text_and_go_elsewhere():
    hebrew = "המנהל \u200fצועק עליי"
    arabic = "مديري يصرخ\u200f علي"
    assert neutralise(hebrew) == hebrew
    assert neutralise(arabic) == arabic
    assert neutralise("My manager\u200f shouts\u200e") == "My manager shouts"


def test_the_case_page_shows_the_account_in_written_order(app, org):
    leader = org.staff["leader"]
    text = f"My manager wrote {RLO}lirpa ni esir on{PDF} and {RLI}hidden{PDI} in the rota."
    case = case_for(org, leader, text=text)
    client = signed_in(app, "leader@demo.defuse")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "lirpa ni esir on" in html
    assert not any(control in html for control in CONTROLS)
    assert 'dir="auto" id="case-account"' in html


def test_arabic_and_hebrew_accounts_still_display(app, org):
    leader = org.staff["leader"]
    text = "مديري يصرخ علي أمام الجميع كل يوم. המנהל צועק עליי."
    case = case_for(org, leader, text=text)
    client = signed_in(app, "leader@demo.defuse")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "مديري يصرخ علي أمام الجميع" in html and "המנהל צועק עליי" in html


def test_the_csv_export_neutralises_controls(app, org):
    seed(org)
    unit = db.session.get(OrgUnit, org.unit("Call Centre"))
    unit.name = f"Call {RLO}ertneC{PDF}"
    db.session.commit()
    client = signed_in(app, "hr@demo.defuse")
    response = client.get("/analytics/export.csv?depth=2&category=all")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Call ertneC" in body
    assert not any(control in body for control in CONTROLS)
    assert list(csv.reader(io.StringIO(body)))  # still a CSV
