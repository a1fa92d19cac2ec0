"""Staff sessions end after DEFUSE_SESSION_IDLE_MINUTES without a request and after
DEFUSE_SESSION_ABSOLUTE_HOURS whatever the activity; sign-in goes on only to a local path.
Each limit is tested a little inside and a little beyond, for an account with a password only
and for one that passes a second factor."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest

import service.auth
from service.db import utcnow
from tests.cases.support import fresh_code, post_form, signed_in
from tests.factories import PASSWORD

LEADER = "leader@demo.defuse"  # password only
LEAD = "lead@demo.defuse"  # password and a second factor


class Clock:
    """The app's clock, moved on by the test (the session stamps are the app's own)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self):  # type: ignore[no-untyped-def]
        return utcnow() + self.offset


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    clock = Clock()
    monkeypatch.setattr(service.auth, "utcnow", clock.now)
    return clock


def signed_in_now(response) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    return False


@pytest.mark.parametrize("email", [LEADER, LEAD])
@pytest.mark.parametrize(("idle", "still_in"), [(-5, True), (5, False)])
def test_idle_timeout(app, org, clock, email, idle, still_in):
    client = signed_in(app, email)
    assert signed_in_now(client.get("/cases"))
    clock.offset = timedelta(minutes=app.config["DEFUSE"].session_idle_minutes, seconds=idle)
    assert signed_in_now(client.get("/cases")) is still_in
    if not still_in:  # ended, not paused: going back in time does not revive it
        clock.offset = timedelta()
        assert not signed_in_now(client.get("/cases"))


def test_activity_keeps_a_session_past_the_idle_limit(app, org, clock):
    client = signed_in(app, LEADER)
    idle = app.config["DEFUSE"].session_idle_minutes
    for step in range(1, 5):  # a request every idle-minus-a-minute, four times over
        clock.offset = timedelta(minutes=(idle - 1) * step)
        assert signed_in_now(client.get("/cases")), step


@pytest.mark.parametrize("email", [LEADER, LEAD])
@pytest.mark.parametrize(("beyond", "still_in"), [(-60, True), (60, False)])
def test_absolute_timeout_ends_even_an_active_session(app, org, clock, email, beyond, still_in):
    settings = app.config["DEFUSE"]
    client = signed_in(app, email)
    lifetime = timedelta(hours=settings.session_absolute_hours, seconds=beyond)
    step = timedelta(minutes=settings.session_idle_minutes - 1)
    # Active all along: a request well within every idle period, up to the moment checked.
    clock.offset = timedelta()
    while clock.offset + step < lifetime:
        clock.offset += step
        assert signed_in_now(client.get("/cases")), clock.offset
    clock.offset = lifetime
    assert signed_in_now(client.get("/cases")) is still_in


# --- where sign-in goes on to ---------------------------------------------------------------

OUTSIDE = [
    "https://evil.example/cases",
    "//evil.example/cases",
    "http:/evil.example",
    "evil.example/cases",
    "javascript:alert(1)",
]


def sign_in_to(client, email: str, next_path: str) -> str:  # type: ignore[no-untyped-def]
    """Sign in from /login?next=...; returns where the last step sends the browser."""
    response = post_form(
        client,
        "/login?" + urlencode({"next": next_path}),
        {"email": email, "password": PASSWORD},
        page="/login",
    )
    assert response.status_code == 302
    if urlsplit(response.headers["Location"]).path == "/login/second-factor":
        response = post_form(client, "/login/second-factor", {"code": fresh_code(email)})
        assert response.status_code == 302
    return response.headers["Location"]


@pytest.mark.parametrize("email", [LEADER, LEAD])
def test_sign_in_goes_on_to_a_local_page(app, org, email):
    location = sign_in_to(app.test_client(), email, "/cases/availability")
    assert location == "/cases/availability"


@pytest.mark.parametrize("email", [LEADER, LEAD])
@pytest.mark.parametrize("target", OUTSIDE)
def test_sign_in_never_goes_on_to_another_site(app, org, email, target):
    location = sign_in_to(app.test_client(), email, target)
    parts = urlsplit(location)
    assert not parts.netloc and not parts.scheme, location
    assert parts.path == "/cases"  # the account's home instead


@pytest.mark.parametrize(("beyond", "still_owed"), [(-5, True), (5, False)])
def test_the_step_between_password_and_code_lasts_ten_minutes(app, org, clock, beyond, still_owed):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"csrf_token": token, "email": LEAD, "password": PASSWORD})
    clock.offset = timedelta(minutes=10, seconds=beyond)
    response = post_form(client, "/login/second-factor", {"code": fresh_code(LEAD)}, page="/login")
    assert response.status_code == 302
    assert (urlsplit(response.headers["Location"]).path != "/login") is still_owed


NOW = datetime(2026, 6, 15, 12, 0, 0)


def _session_stamped(app, monkeypatch, **stamps):  # type: ignore[no-untyped-def]
    """A password-only session whose start and last request are set to `stamps` (seconds
    before NOW, or None for a stamp that is missing), on a clock standing at NOW."""
    client = signed_in(app, LEADER)
    monkeypatch.setattr(service.auth, "utcnow", lambda: NOW)
    with client.session_transaction() as stored:
        for name, ago in stamps.items():
            if ago is None:
                stored.pop(name, None)
            else:
                stored[name] = NOW.timestamp() - ago
    return client


@pytest.mark.parametrize(("beyond", "still_in"), [(0, True), (1, False)])
def test_the_idle_limit_to_the_second(app, org, monkeypatch, beyond, still_in):
    idle = app.config["DEFUSE"].session_idle_minutes * 60
    client = _session_stamped(app, monkeypatch, started=idle + beyond, seen=idle + beyond)
    assert signed_in_now(client.get("/cases")) is still_in


@pytest.mark.parametrize(("beyond", "still_in"), [(0, True), (1, False)])
def test_the_absolute_limit_to_the_second(app, org, monkeypatch, beyond, still_in):
    lifetime = app.config["DEFUSE"].session_absolute_hours * 3600
    client = _session_stamped(app, monkeypatch, started=lifetime + beyond, seen=60)
    assert signed_in_now(client.get("/cases")) is still_in


@pytest.mark.parametrize("missing", ["started", "seen"])
def test_a_session_without_its_time_stamps_is_over(app, org, monkeypatch, missing):
    stamps = {"started": 60, "seen": 60, missing: None}
    client = _session_stamped(app, monkeypatch, **stamps)
    assert not signed_in_now(client.get("/cases"))
    with client.session_transaction() as stored:
        assert "uid" not in stored


def test_the_session_cookie_outlives_the_browser_only_up_to_the_absolute_limit(app, org):
    """The cookie carries an expiry (a staff member who closes the browser mid-shift is still
    signed in on return), and that expiry is the absolute limit, so the browser drops the
    cookie when the server would refuse it anyway."""
    before = utcnow()
    client = signed_in(app, LEADER)
    cookie = client.get_cookie("defuse_session")
    assert cookie is not None and cookie.expires is not None
    lifetime = timedelta(hours=app.config["DEFUSE"].session_absolute_hours)
    expires = cookie.expires.replace(tzinfo=None)
    assert before + lifetime - timedelta(seconds=1) <= expires <= utcnow() + lifetime
