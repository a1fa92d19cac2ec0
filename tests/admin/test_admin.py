"""The admin pages: accounts, tokens, the audit log, the notification outbox, failed jobs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.auth import verify_password
from service.cases import service
from service.db import ApiToken, AuditEvent, Notification, User
from service.extensions import db
from service.i18n import LANGUAGE_COOKIE
from tests.cases.support import bearer, case_for, csrf_token, post_form, signed_in

ADMIN_PAGES = (
    "/admin/users",
    "/admin/users/new",
    "/admin/org",
    "/admin/audit",
    "/admin/notifications",
    "/admin/jobs",
)


@pytest.fixture
def admin(app, org):  # type: ignore[no-untyped-def]
    return signed_in(app, "admin@demo.defuse")


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def user(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


@pytest.mark.parametrize("email", ["leader@demo.defuse", "lead@demo.defuse", "hr@demo.defuse"])
def test_only_admins_open_admin_pages(app, org, email):
    client = signed_in(app, email)
    for path in ADMIN_PAGES + (
        f"/admin/users/{org.staff['leader'].id}",
        f"/admin/org/{org.unit('Payroll')}",
    ):
        assert client.get(path).status_code == 403, path


def test_signed_out_goes_to_sign_in(client, org):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_pages_render_without_inline_code(admin, org):
    for path in ADMIN_PAGES + (
        f"/admin/users/{org.staff['leader'].id}",
        f"/admin/org/{org.unit('Payroll')}",
    ):
        response = admin.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store"
        html = text(response)
        assert "<script" not in html and 'style="' not in html


def test_list_accounts(admin, org):
    html = text(admin.get("/admin/users"))
    for email in ("leader@demo.defuse", "hr@demo.defuse", "lead@demo.defuse"):
        assert email in html


def test_create_account(admin, org):
    response = post_form(
        admin,
        "/admin/users/new",
        {
            "email": "New.Leader@Demo.Defuse",
            "password": "a long enough password",
            "name": "Robin",
            "role": "trust_leader",
            "org_unit_id": str(org.unit("Transport")),
            "languages": ["en", "fr"],
            "categories": ["bullying", "pay"],
            "capacity": "5",
        },
    )
    assert response.status_code == 302
    created = user("new.leader@demo.defuse")
    assert created.password_hash.startswith("$argon2id$")
    assert (created.role, created.capacity, created.org_unit_id) == (
        "trust_leader",
        5,
        org.unit("Transport"),
    )
    assert created.languages == ["en", "fr"] and created.categories == ["bullying", "pay"]
    # The new account signs in with its password (signed_in checks the redirect) and is then
    # a Trust Leader with an empty queue, not an anonymous visitor sent back to the login page.
    client = signed_in(admin.application, "new.leader@demo.defuse", "a long enough password")
    queue = client.get("/cases")
    assert queue.status_code == 200
    assert client.get("/admin/users").status_code == 403


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "leader@demo.defuse"}, "email"),
        ({"password": "short"}, "password"),
        ({"role": "superuser"}, "role"),
        ({"capacity": "-1"}, "capacity"),
        ({"languages": ["klingon"]}, "languages"),
    ],
)
def test_create_account_errors_are_shown_beside_fields(admin, org, changes, field):
    form = {
        "email": "someone@demo.defuse",
        "password": "a long enough password",
        "role": "trust_leader",
        "languages": ["en"],
        "capacity": "3",
        **changes,
    }
    response = post_form(admin, "/admin/users/new", form)
    assert response.status_code == 422
    assert f'id="{field}-error"' in text(response)
    assert (
        db.session.execute(select(User).where(User.email == "someone@demo.defuse")).first() is None
    )


def test_edit_profile(admin, org):
    leader = org.staff["leader"]
    generation = leader.session_generation
    response = post_form(
        admin,
        f"/admin/users/{leader.id}",
        {
            "name": "Sam",
            "role": "trust_leader",
            "org_unit_id": str(org.unit("Payroll")),
            "languages": ["en", "de"],
            "categories": ["workload"],
            "capacity": "3",
            "away_until": "2031-05-01",
            "on_call": "1",
            "active": "1",
        },
    )
    assert response.status_code == 302
    edited = user("leader@demo.defuse")
    assert edited.languages == ["en", "de"] and edited.categories == ["workload"]
    assert edited.capacity == 3 and edited.away_until.isoformat() == "2031-05-01"
    assert edited.on_call is True and edited.session_generation == generation
    event = (
        db.session.execute(select(AuditEvent).where(AuditEvent.action == "staff.updated"))
        .scalars()
        .all()[-1]
    )
    assert event.detail["target_user"] == leader.id
    assert event.actor_id == org.staff["admin"].id


def test_deactivating_ends_sessions(admin, app, org):
    leader_browser = signed_in(app, "leader@demo.defuse")
    assert leader_browser.get("/cases").status_code == 200
    leader = org.staff["leader"]
    response = post_form(
        admin,
        f"/admin/users/{leader.id}",
        {
            "name": leader.name,
            "role": "trust_leader",
            "languages": ["en"],
            "capacity": "8",
            "categories": ["pay"],
        },
    )  # "active" unticked
    assert response.status_code == 302
    assert user("leader@demo.defuse").active is False
    assert leader_browser.get("/cases").status_code == 302  # signed out


def test_admin_cannot_lock_themselves_out(admin, org):
    me = org.staff["admin"]
    response = post_form(
        admin,
        f"/admin/users/{me.id}",
        {
            "name": "x",
            "role": "trust_leader",
            "languages": ["en"],
            "capacity": "1",
            "active": "1",
        },
    )
    assert response.status_code == 422
    assert user("admin@demo.defuse").role == "admin"


def test_role_change_refused_while_cases_are_open(admin, org):
    leader = org.staff["leader"]
    case_for(org, leader)
    response = post_form(
        admin,
        f"/admin/users/{leader.id}",
        {
            "name": "Sam",
            "role": "hr_analyst",
            "languages": ["en"],
            "capacity": "8",
            "active": "1",
        },
    )
    assert response.status_code == 422 and "reassign" in text(response)
    assert user("leader@demo.defuse").role == "trust_leader"


def test_reset_password(admin, app, org):
    leader = org.staff["leader"]
    old_session = signed_in(app, "leader@demo.defuse")
    short = post_form(
        admin,
        f"/admin/users/{leader.id}/password",
        {"password": "short"},
        page=f"/admin/users/{leader.id}",
    )
    assert short.status_code == 422
    response = post_form(
        admin,
        f"/admin/users/{leader.id}/password",
        {"password": "a brand new password"},
        page=f"/admin/users/{leader.id}",
    )
    assert response.status_code == 302
    changed = user("leader@demo.defuse")
    assert verify_password(changed, "a brand new password")
    assert not verify_password(changed, "defuse-demo-password")
    assert old_session.get("/cases").status_code == 302


def test_create_and_revoke_tokens(admin, client, org):
    leader = org.staff["leader"]
    page = f"/admin/users/{leader.id}"
    response = post_form(admin, f"{page}/tokens", {"label": "laptop"}, page=page)
    assert response.status_code == 200
    html = text(response)
    token = html.split('id="token-value">')[1].split("<")[0]
    assert token.startswith("dfs_")
    assert (
        client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    assert token not in text(admin.get(page))  # shown once

    row = db.session.execute(select(ApiToken).where(ApiToken.label == "laptop")).scalar_one()
    revoked = post_form(admin, f"{page}/tokens/{row.id}/revoke", {}, page=page)
    assert revoked.status_code == 302
    assert (
        client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    # Revoking through another account's URL is refused.
    other = org.staff["leader2"].id
    assert (
        post_form(admin, f"/admin/users/{other}/tokens/{row.id}/revoke", {}, page=page).status_code
        == 404
    )


def test_audit_log_is_filterable_paged_and_read_only(admin, org):
    leader = org.staff["leader"]
    first = case_for(org, leader)
    second = case_for(org, leader)
    for _ in range(3):
        service.load_case_for(leader, first.id)
        service.record_view(leader, first)
    db.session.commit()

    html = text(admin.get(f"/admin/audit?case_id={first.id}"))
    assert html.count("<td>case.viewed</td>") == 3
    assert "leader@demo.defuse" in html
    other = text(admin.get(f"/admin/audit?case_id={second.id}"))
    assert "case.viewed" not in other.split('id="audit-events"')[-1]
    assert admin.get("/admin/audit?case_id=abc").status_code == 422
    by_action = text(admin.get("/admin/audit?action=report.submitted"))
    assert "2 events" in by_action

    for _ in range(60):
        service.record_view(leader, first)
    db.session.commit()
    page_one = text(admin.get(f"/admin/audit?case_id={first.id}"))
    page_two = text(admin.get(f"/admin/audit?case_id={first.id}&page=2"))
    assert "page 1 of 2" in page_one and "page 2 of 2" in page_two
    assert page_one.count("<tr>") == 51  # 50 rows and the header
    assert f'page=2&amp;case_id={first.id}&amp;action=" rel="next">Older' in page_one
    assert f'page=1&amp;case_id={first.id}&amp;action=" rel="prev">Newer' in page_two

    token = csrf_token(admin, "/admin/audit")
    for method in ("post", "put", "delete"):
        response = getattr(admin, method)("/admin/audit", data={"csrf_token": token})
        assert response.status_code == 405


def test_notifications_outbox(admin, org):
    case = case_for(org, None)
    service.reassign(org.staff["lead"], case, org.staff["leader3"].id)
    html = text(admin.get("/admin/notifications"))
    assert "leader3@demo.defuse" in html and f"case {case.id}" in html
    total = db.session.scalar(select(db.func.count(Notification.id)))
    assert f"{total} notification" in html


def test_failed_jobs_without_redis_says_so(admin, org):
    html = text(admin.get("/admin/jobs"))
    assert "Redis is not configured" in html
    response = post_form(admin, "/admin/jobs/routing/some-job/retry", {}, page="/admin/jobs")
    assert response.status_code == 302


def test_failed_jobs_are_listed_and_retried(redis_settings, org):  # type: ignore[no-untyped-def]
    from redis import Redis
    from rq import SimpleWorker
    from rq.registry import FailedJobRegistry

    from service.tasks.queue import MAINTENANCE_QUEUE, get_queue
    from tests.conftest import make_app

    app = make_app(redis_settings)
    with app.app_context():
        connection = Redis.from_url(redis_settings.redis_url)
        queue = get_queue(MAINTENANCE_QUEUE, connection)
        job = queue.enqueue("tests.admin.failing.explode", 42, job_id="explode-42")
        SimpleWorker([queue], connection=connection).work(burst=True)
        assert job.id in FailedJobRegistry(queue=queue).get_job_ids()

        admin = signed_in(app, "admin@demo.defuse")
        html = text(admin.get("/admin/jobs"))
        assert "explode-42" in html and "RuntimeError" in html
        assert "secret words" not in html  # the message is never shown

        response = post_form(
            admin, f"/admin/jobs/{MAINTENANCE_QUEUE}/explode-42/retry", {}, page="/admin/jobs"
        )
        assert response.status_code == 302
        assert job.id not in FailedJobRegistry(queue=queue).get_job_ids()
        assert job.id in queue.get_job_ids()
        assert (
            post_form(
                admin, f"/admin/jobs/{MAINTENANCE_QUEUE}/explode-42/retry", {}, page="/admin/jobs"
            ).status_code
            == 404
        )
        assert (
            post_form(
                admin, "/admin/jobs/nonsense/explode-42/retry", {}, page="/admin/jobs"
            ).status_code
            == 404
        )
        connection.close()


def test_admin_token_cannot_read_cases(client, org):
    case = case_for(org, org.staff["leader"])
    headers = bearer(org.staff["admin"])
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 403


def test_out_of_range_account_ids_are_404(admin, org):
    assert admin.get("/admin/users/99999999999999999999").status_code == 404
    page = f"/admin/users/{org.staff['leader'].id}"
    response = post_form(admin, f"{page}/tokens/99999999999999999999/revoke", {}, page=page)
    assert response.status_code == 404


def test_jobs_page_says_when_no_worker_is_working(redis_settings, org):  # type: ignore[no-untyped-def]
    import time

    from redis import Redis

    from service.tasks import heartbeat
    from tests.conftest import make_app

    app = make_app(redis_settings)
    with app.app_context():
        admin = signed_in(app, "admin@demo.defuse")
        html = text(admin.get("/admin/jobs"))
        assert "No worker is working: no heartbeat seen" in html

        connection = Redis.from_url(redis_settings.redis_url)
        heartbeat.beat(connection, "host:1", at=time.time() - 5)
        html = text(admin.get("/admin/jobs"))
        assert "No worker is working" not in html and "Queue “routing”" in html
        connection.close()


def test_flashes_and_form_messages_in_french(admin, org):
    admin.set_cookie(LANGUAGE_COOKIE, "fr")
    form = {
        "email": "camille@demo.defuse",
        "password": "a long enough password",
        "role": "trust_leader",
        "org_unit_id": str(org.unit("Transport")),
        "languages": ["en"],
        "capacity": "3",
    }
    created = post_form(admin, "/admin/users/new", form)
    assert created.status_code == 302
    page = text(admin.get(created.headers["Location"]))
    assert "Compte créé pour camille@demo.defuse." in page
    assert "Account created" not in page
    too_many = post_form(admin, "/admin/users/new", {**form, "capacity": "101"})
    assert too_many.status_code == 422
    assert "Doit être entre 0 et 100." in text(too_many)


def test_the_open_cases_refusal_counts_in_the_readers_language(admin, org):
    leader = org.staff["leader"]
    case_for(org, leader)
    admin.set_cookie(LANGUAGE_COOKIE, "de")
    form = {
        "name": "Sam",
        "role": "hr_analyst",
        "languages": ["en"],
        "capacity": "8",
        "active": "1",
    }
    response = post_form(admin, f"/admin/users/{leader.id}", form)
    assert response.status_code == 422
    assert "1 offener Fall ist diesem Konto zugewiesen" in text(response)


def test_account_refusals_are_in_the_readers_language_and_in_english_elsewhere(admin, org):
    """The same refusal is worded for the page (here German) and stays English for the CLI
    and the API, which read it as a plain string."""
    from service.people import PeopleError, create_user

    form = {
        "email": "sam@demo.defuse",
        "password": "a long enough password",
        "role": "trust_leader",
        "org_unit_id": "",  # a Trust Leader needs the unit they work in
        "languages": ["en"],
        "capacity": "3",
    }
    admin.set_cookie(LANGUAGE_COOKIE, "de")
    refused = post_form(admin, "/admin/users/new", form)
    assert refused.status_code == 422
    assert "braucht die Organisationseinheit, in der sie arbeitet" in text(refused)
    assert "needs the org unit" not in text(refused)

    with pytest.raises(PeopleError) as raised:
        create_user(email="sam@demo.defuse", role="trust_leader", password=None)
    assert str(raised.value).startswith("A Trust Leader or lead needs the org unit they work in")
