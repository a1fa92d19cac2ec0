"""Weak passwords are refused wherever a password is set: the admin's new account and reset
pages and `defuse users create`, with a message that says why. The rule (service.passwords):
12 characters or more and a zxcvbn score of 3 or more, judged with the account's own email
and name as the first guesses."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.auth import verify_password
from service.db import User
from service.extensions import db
from service.i18n import LANGUAGE_COOKIE
from service.passwords import password_problem
from tests.cases.support import post_form, signed_in

WEAK = ["            ", "password1234", "aaaaaaaaaaaaaaaa", "qwertyuiop123", "Password1234!"]
STRONG = ["Quiet-Harbour-Lantern-42", "a long enough password", "vN3#qT8!wZ1@"]


@pytest.mark.parametrize("password", WEAK)
def test_common_and_guessable_passwords_are_refused(password):
    problem = password_problem(password)
    assert problem is not None and "Choose a longer password" in problem


@pytest.mark.parametrize("password", STRONG)
def test_strong_passwords_pass(password):
    assert password_problem(password) is None


def test_length_boundary():
    assert password_problem("vN3#qT8!wZ1") == "Use at least 12 characters."  # 11
    assert password_problem("vN3#qT8!wZ1@") is None  # 12


def test_the_accounts_own_email_counts_as_a_guess():
    account = ("xavier.quillfeather@demo.defuse", "Xavier Quillfeather")
    for password in ("xavierquillfeather", "xavier.quillfeather@demo.defuse"):
        assert password_problem(password) is None
        assert password_problem(password, account) is not None


def test_a_very_long_password_is_judged_not_refused():
    assert password_problem("Quiet-Harbour-Lantern-42 " * 10) is None


@pytest.fixture
def admin(app, org):  # type: ignore[no-untyped-def]
    return signed_in(app, "admin@demo.defuse")


def new_account(password: str) -> dict[str, object]:
    return {
        "email": "kim@demo.defuse",
        "password": password,
        "role": "hr_analyst",
        "languages": ["en"],
        "capacity": "3",
    }


@pytest.mark.parametrize("password", ["            ", "password1234"])
def test_admin_creating_an_account_with_a_weak_password(admin, org, password):
    response = post_form(admin, "/admin/users/new", new_account(password))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="password-error"' in html and "Choose a longer password" in html
    assert db.session.execute(select(User).where(User.email == "kim@demo.defuse")).first() is None


def test_admin_creating_an_account_with_a_strong_password(admin, org):
    response = post_form(admin, "/admin/users/new", new_account("Quiet-Harbour-Lantern-42"))
    assert response.status_code == 302


@pytest.mark.parametrize("password", ["            ", "password1234"])
def test_admin_reset_with_a_weak_password_changes_nothing(admin, org, password):
    user = org.staff["leader4"]
    page = f"/admin/users/{user.id}"
    before = db.session.get(User, user.id).password_hash
    response = post_form(admin, f"{page}/password", {"password": password}, page=page)
    assert response.status_code == 422
    assert "Choose a longer password" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == before


def test_admin_reset_with_a_strong_password(admin, org):
    user = org.staff["leader4"]
    page = f"/admin/users/{user.id}"
    form = {"password": "Quiet-Harbour-Lantern-42"}
    response = post_form(admin, f"{page}/password", form, page=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert verify_password(db.session.get(User, user.id), "Quiet-Harbour-Lantern-42")


@pytest.mark.parametrize(
    ("password", "code"), [("password1234", 1), ("Quiet-Harbour-Lantern-42", 0)]
)
def test_the_cli(app, org, password, code):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "kim@demo.defuse", "--role", "hr_analyst", "--password", password]
    )
    assert result.exit_code == code, result.output
    exists = db.session.execute(select(User).where(User.email == "kim@demo.defuse")).first()
    assert (exists is not None) == (code == 0)
    if code:
        assert "Choose a longer password" in result.output


def test_the_message_is_in_the_admins_language(admin, org):
    admin.set_cookie(LANGUAGE_COOKIE, "de")
    response = post_form(admin, "/admin/users/new", new_account("password1234"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html.split('id="password-error">')[1].split("</p>")[0]
    # zxcvbn's own warning, translated, then the advice.
    assert error == (
        "Das ist ein sehr häufiges Passwort. Wählen Sie ein längeres Passwort, das kein "
        "häufiges ist, zum Beispiel vier oder mehr Wörter, die nichts miteinander zu tun haben."
    )
    short = post_form(admin, "/admin/users/new", new_account("vN3#qT8!wZ1"))
    assert "Verwenden Sie mindestens 12 Zeichen." in short.get_data(as_text=True)


def test_a_warning_zxcvbn_adds_later_is_not_shown_in_english(monkeypatch, app):
    from service import passwords

    def unknown_warning(password, user_inputs):  # type: ignore[no-untyped-def]
        return {"score": 0, "feedback": {"warning": "A brand-new warning."}}

    monkeypatch.setattr(passwords, "zxcvbn", unknown_warning)
    with app.test_request_context(headers={"Cookie": f"{LANGUAGE_COOKIE}=de"}):
        problem = password_problem("Quiet-Harbour-Lantern-42")
    assert problem is not None and problem.startswith("Dieses Passwort ist zu leicht zu erraten.")
    assert "brand-new" not in problem
