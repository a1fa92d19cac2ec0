"""Nobody can lock a colleague out by guessing their password, and signing in never sends
anyone off the site."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from service import sign_in_throttle
from service.db import AuditEvent
from service.extensions import db
from tests.cases.support import csrf_token, pass_second_factor
from tests.factories import PASSWORD, seed_org

OWNER = "leader@demo.defuse"


def _attempt(client, email: str, password: str, address: str, next_path: str = ""):  # type: ignore[no-untyped-def]
    client.environ_base["REMOTE_ADDR"] = address
    path = "/login" + (f"?next={next_path}" if next_path else "")
    return client.post(
        path,
        data={"csrf_token": csrf_token(client, "/login"), "email": email, "password": password},
    )


def test_twelve_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(limited_app, monkeypatch):
    monkeypatch.setattr(sign_in_throttle, "MAX_DELAY_SECONDS", 1)  # short, to keep the test fast
    attacker = limited_app.test_client()
    answers = [
        _attempt(attacker, OWNER, "wrong password!", f"198.51.100.{n}").status_code
        for n in range(12)
    ]
    assert set(answers) <= {401, 429} and answers[:5] == [401] * 5
    time.sleep(1.1)  # at most the (capped) delay

    owner = limited_app.test_client()
    response = _attempt(owner, OWNER, PASSWORD, "203.0.113.5")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def test_while_an_account_waits_even_the_right_password_waits_briefly(limited_app):
    attacker = limited_app.test_client()
    for n in range(sign_in_throttle.FREE_FAILURES + 1):
        assert _attempt(attacker, OWNER, "wrong password!", f"198.51.100.{n}").status_code == 401
    owner = limited_app.test_client()
    response = _attempt(owner, OWNER, PASSWORD, "203.0.113.5")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= sign_in_throttle.MAX_DELAY_SECONDS


def test_the_delay_grows_and_is_capped():
    delays = [sign_in_throttle.delay_after(n) for n in range(1, 20)]
    assert delays[: sign_in_throttle.FREE_FAILURES] == [0] * sign_in_throttle.FREE_FAILURES
    assert delays[5:9] == [2, 4, 8, 16]
    assert max(delays) == sign_in_throttle.MAX_DELAY_SECONDS <= 60


def test_successful_sign_ins_do_not_count_towards_any_limit(limited_app):
    browser = limited_app.test_client()
    # Twice the per-client allowance (10 per 15 minutes), all right, from one address.
    for _ in range(20):
        assert _attempt(browser, OWNER, PASSWORD, "203.0.113.7").status_code == 302


def test_wrong_passwords_are_still_limited_per_client(limited_app):
    client = limited_app.test_client()
    emails = [f"nobody{n}@demo.defuse" for n in range(11)]  # spread over accounts
    answers = [_attempt(client, e, "wrong password!", "198.51.100.200").status_code for e in emails]
    assert answers == [401] * 10 + [429]


def test_an_attack_on_an_account_is_in_the_audit_log(limited_app):
    attacker = limited_app.test_client()
    for n in range(sign_in_throttle.FREE_FAILURES + 1):
        _attempt(attacker, OWNER, "wrong password!", f"198.51.100.{n}")
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "staff.sign_in_delayed")
    ).scalars()
    (event,) = list(events)
    owner_id = seed_org().staff["leader"].id
    assert event.detail["target_user"] == owner_id
    assert event.detail["failures"] == sign_in_throttle.FREE_FAILURES + 1
    assert "198.51.100" not in str(event.detail) and OWNER not in str(event.detail)


def test_a_right_password_and_code_get_in_after_wrong_codes_elsewhere(limited_app):
    """The owner, from a new browser, with the right password and a valid code."""
    attacker = limited_app.test_client()
    for n in range(12):
        _attempt(attacker, "lead@demo.defuse", "wrong password!", f"198.51.100.{n}")
    sign_in_throttle.record_success("lead@demo.defuse")  # as if the capped delay had passed
    owner = limited_app.test_client()
    response = _attempt(owner, "lead@demo.defuse", PASSWORD, "203.0.113.9")
    assert response.headers["Location"] == "/login/second-factor"
    pass_second_factor(owner, "lead@demo.defuse")
    assert owner.get("/cases").status_code == 200


# --- where sign-in sends you ---------------------------------------------------------------

OFF_SITE = [
    "//evil.example",
    "/%09/evil.example",  # a tab, which browsers drop: //evil.example
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "/%5c/evil.example",  # a backslash, which browsers read as a slash
    "/%5cevil.example",
    "https://evil.example/",
    "/\\evil.example",
    "%2f%2fevil.example",
    "/cases%0d%0aSet-Cookie:%20x=1",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_redirects_off_the_site(client, org, target):
    response = _attempt(client, OWNER, PASSWORD, "203.0.113.10", next_path=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/cases", location


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_sign_in_page_never_offers_an_off_site_target(client, org, target):
    response = client.get(f"/login?next={target}")
    assert response.status_code == 200
    assert "evil.example" not in response.get_data(as_text=True)


def test_a_local_path_is_kept(client, org):
    response = _attempt(client, OWNER, PASSWORD, "203.0.113.10", next_path="/cases?page=2")
    assert response.headers["Location"] == "/cases?page=2"


def test_single_sign_on_start_keeps_only_local_targets():
    from service.auth import local_path

    assert local_path("/cases/3") == "/cases/3"
    for target in ("//evil.example", "/\t/evil.example", "/\\evil.example", "/a\r\nb", ""):
        assert local_path(target) == ""


def test_a_local_target_is_refused_from_the_first_control_character_on_both_sides():
    from service.auth import local_path

    # A space is the first character that is not a control one: kept.
    assert local_path("/cases/3?q=a b") == "/cases/3?q=a b"
    for control in ("\x00", "\x1f", "\x7f"):  # the lowest, the highest below space, DEL
        assert local_path(f"/{control}/evil.example") == "", repr(control)
    assert local_path("cases/3") == ""  # relative: not a path on this site
    assert local_path("/cases/3#notes") == "/cases/3#notes"


@pytest.mark.parametrize("email", [OWNER, "nobody@demo.defuse"], ids=["account", "no-account"])
def test_an_attack_is_logged_by_account_number_never_by_address(limited_app, caplog, email):
    attacker = limited_app.test_client()
    with caplog.at_level("WARNING", logger="service.auth"):
        for n in range(sign_in_throttle.FREE_FAILURES + 1):
            _attempt(attacker, email, "wrong password!", f"198.51.100.{n}")
    account = seed_org().staff["leader"].id if email == OWNER else "-"
    failures = sign_in_throttle.FREE_FAILURES + 1
    assert [r.getMessage() for r in caplog.records if r.name == "service.auth"] == [
        f"sign-in delays for account {account} after {failures} failures"
    ]
    assert "198.51.100" not in caplog.text and email not in caplog.text
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "staff.sign_in_delayed")
    ).all()
    assert (event.actor_kind, event.actor_id) == ("system", None)
    assert event.detail["target_user"] == (None if account == "-" else account)
