"""Encryption at rest and key rotation, retention, abuse limits, headers, safe start-up."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import g
from sqlalchemy import select, text

from service.cli import main as cli
from service.config import DEV_SECRET_KEY, ConfigError, Settings
from service.db import Case, Message, Note, Report, utcnow
from service.extensions import db, limiter
from service.privacy.crypto import keyring, new_key
from tests.conftest import make_app
from tests.factories import PASSWORD, report_payload, seed_org


def submit(client, org, **changes) -> int:
    response = client.post("/api/v1/reports", json=report_payload(org, **changes))
    assert response.status_code == 201
    return response.get_json()["id"]


def raw_tokens() -> list[str]:
    return [
        row[0]
        for row in db.session.execute(text("SELECT text FROM reports WHERE text IS NOT NULL"))
    ]


# --- encryption and rotation --------------------------------------------------------------


def test_keys_rotate_reencrypts_everything_and_old_key_can_then_go(settings, org_factory):
    old_key, fresh_key = settings.encryption_keys[0], new_key()
    app = make_app(settings)
    with app.app_context():
        org = org_factory()
        report_id = submit(app.test_client(), org)
        before = raw_tokens()

    rotated = make_app(settings.replace(encryption_keys=(fresh_key, old_key)))
    with rotated.app_context():
        # Both keys are live: the app keeps reading old tokens before the rotation runs.
        assert "extra shifts" in db.session.get(Report, report_id).text
        result = CliRunner().invoke(cli, ["keys", "rotate"], obj=_script_info(rotated))
        assert result.exit_code == 0, result.output
        assert "reports.text: re-encrypted 1" in result.output
        after = raw_tokens()
        assert after != before and all(token.startswith("gAAAA") for token in after)

    only_new = make_app(settings.replace(encryption_keys=(fresh_key,)))
    with only_new.app_context():
        assert "extra shifts" in db.session.get(Report, report_id).text
    keyring.configure((old_key,))  # leave the process-wide keyring as the other tests expect


def _script_info(app):  # type: ignore[no-untyped-def]
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


@pytest.fixture
def org_factory():  # type: ignore[no-untyped-def]
    from tests.factories import seed_org

    return seed_org


# --- retention -----------------------------------------------------------------------------


def test_retention_removes_words_after_the_period_and_keeps_aggregates(app, client, org):
    receipt = client.post("/api/v1/reports", json=report_payload(org)).get_json()["receipt"]
    case = db.session.execute(select(Case)).scalar_one()
    db.session.add(Note(case_id=case.id, author_id=org.staff["leader"].id, body="private note"))
    db.session.add(Message(case_id=case.id, from_reporter=False, body="hello"))
    case.status = "closed"
    case.outcome = "resolved"
    case.escalated = False
    case.closed_at = utcnow() - timedelta(days=181)
    db.session.commit()
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert "would remove the text of 1 case(s): 1 note(s), 1 message(s)" in dry.output
    assert db.session.get(Report, case.report_id).text is not None

    done = runner.invoke(args=["retention", "run"])
    assert "removed the text of 1 case(s)" in done.output
    db.session.expire_all()
    report = db.session.get(Report, case.report_id)
    assert report.text is None and report.risk_explanation == {} and report.text_removed_on
    assert report.category == "workload" and db.session.get(Case, case.id).outcome == "resolved"
    assert db.session.scalar(select(Note.id)) is None
    assert db.session.scalar(select(Message.id)) is None
    status = client.get("/api/v1/reports/status", headers={"X-Receipt": receipt}).get_json()
    assert status["text_removed"] is True and "removed" in status["status_label"]


def test_retention_keeps_recently_closed_cases(app, client, org):
    client.post("/api/v1/reports", json=report_payload(org))
    case = db.session.execute(select(Case)).scalar_one()
    case.status, case.closed_at = "closed", utcnow() - timedelta(days=179)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert "removed the text of 0 case(s)" in result.output


# --- abuse limits ----------------------------------------------------------------------------


@pytest.fixture
def limited_app(settings):  # type: ignore[no-untyped-def]
    app = make_app(
        settings.replace(
            rate_limits_enabled=True,
            rate_limit_reports="3 per hour",
            rate_limit_receipts="3 per hour",
            rate_limit_login="3 per hour",
        )
    )
    with app.app_context():
        limiter.reset()
        yield app


def test_report_submission_is_rate_limited_per_hashed_address(limited_app):
    from tests.factories import seed_org

    org = seed_org()
    client = limited_app.test_client()
    address = {"REMOTE_ADDR": "192.0.2.10"}
    answers = [
        client.post("/api/v1/reports", json=report_payload(org), environ_base=address).status_code
        for _ in range(4)
    ]
    assert answers == [201, 201, 201, 429]
    assert (
        client.post(
            "/api/v1/reports", json=report_payload(org), environ_base={"REMOTE_ADDR": "192.0.2.11"}
        ).status_code
        == 201
    )
    body = client.post("/api/v1/reports", json=report_payload(org), environ_base=address)
    assert body.get_json()["error"]["code"] == "rate_limited"
    # The limiter's storage holds keyed hashes, never the address.
    storage = limiter._storage  # memory storage in the embedded default
    keys = " ".join(str(k) for k in getattr(storage, "storage", {}))
    assert keys and "192.0.2.10" not in keys


def test_wrong_receipts_are_rate_limited_but_right_ones_are_not_counted(limited_app):
    from tests.factories import seed_org

    org = seed_org()
    client = limited_app.test_client()
    receipt = client.post("/api/v1/reports", json=report_payload(org)).get_json()["receipt"]
    for _ in range(5):  # successful look-ups do not use up the allowance
        assert (
            client.get("/api/v1/reports/status", headers={"X-Receipt": receipt}).status_code == 200
        )
    wrong = [
        client.get(
            "/api/v1/reports/status", headers={"X-Receipt": "AAAA-BBBB-CCCC-DDDD-EEEE"}
        ).status_code
        for _ in range(4)
    ]
    assert wrong == [404, 404, 404, 429]


def test_sign_in_is_rate_limited(limited_app):
    from tests.factories import seed_org

    seed_org()
    client = limited_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answers = [
        client.post(
            "/login",
            data={
                "csrf_token": token,
                "email": "leader@demo.defuse",
                "password": "wrong password!",
            },
        ).status_code
        for _ in range(4)
    ]
    assert answers == [401, 401, 401, 429]


# --- headers and start-up ----------------------------------------------------------------------


def test_security_headers(client, org):
    response = client.get("/", base_url="https://defuse.test")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "max-age" in response.headers["Strict-Transport-Security"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags_in_production(settings):
    production = Settings(
        env="production",
        secret_key="s" * 40,
        database_url=settings.database_url,
        encryption_keys=settings.encryption_keys,
        hash_key="h" * 40,
    )
    app = make_app(production)
    with app.app_context():
        seed_org()
        client = app.test_client()
        base = "https://defuse.test"
        g.pop("csrf_token", None)
        form = client.get("/login", base_url=base).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        response = client.post(
            "/login",
            base_url=base,
            # Flask-WTF's strict HTTPS check refuses a POST without a Referer (see the notes on
            # issue 18: our own Referrer-Policy tells browsers to send none).
            headers={"Referer": f"{base}/login"},
            data={"csrf_token": token, "email": "leader@demo.defuse", "password": PASSWORD},
        )
    assert response.status_code == 302, response.get_data(as_text=True)[-600:]
    # The cookie the browser is told to keep after sign-in, as the browser reads it.
    (cookie,) = [
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith("defuse_session=")
    ]
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].lower() == "samesite=lax"


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"secret_key": DEV_SECRET_KEY}, "DEFUSE_SECRET_KEY"),
        ({"secret_key": "short"}, "DEFUSE_SECRET_KEY"),
        ({"encryption_keys": ()}, "DEFUSE_ENCRYPTION_KEYS"),
        ({"hash_key": ""}, "DEFUSE_HASH_KEY"),
    ],
)
def test_production_refuses_unsafe_settings(changes, variable):
    values = dict(
        env="production", secret_key="s" * 40, encryption_keys=(new_key(),), hash_key="h" * 40
    )
    values.update(changes)
    with pytest.raises(ConfigError, match=variable):
        Settings(**values).check()


def test_settings_from_environment_name_the_bad_variable():
    with pytest.raises(ConfigError, match="DEFUSE_ANONYMITY_K"):
        Settings.from_env({"DEFUSE_ANONYMITY_K": "2"})
    with pytest.raises(ConfigError, match="DEFUSE_SLA_LOW_HOURS"):
        Settings.from_env({"DEFUSE_SLA_LOW_HOURS": "200"})
    with pytest.raises(ConfigError, match="DEFUSE_RETENTION_DAYS"):
        Settings.from_env({"DEFUSE_RETENTION_DAYS": "soon"})
    assert Settings.from_env({"DEFUSE_SLA_CRITICAL_HOURS": "2"}).sla_hours["critical"] == 2
