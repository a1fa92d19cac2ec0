"""The audit log's hash chain, and TRUNCATE refused: a row changed, removed or slipped in by
someone who bypasses the triggers (done here as the database's superuser would) is found by
`defuse audit verify`, which names the first broken event and exits 1. Two transactions
appending at once never fork the chain. SQLite by default, PostgreSQL in CI."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.audit import record, verify_chain
from service.db import AuditEvent
from service.db.audit import GENESIS_HASH
from service.extensions import db
from tests.conftest import make_app


def postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


@contextmanager
def triggers_off():
    """What a superuser (or a restored, edited dump) can do: write past the triggers."""
    if postgresql():
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        yield
    else:
        db.session.execute(text("DROP TRIGGER audit_events_no_update"))
        db.session.execute(text("DROP TRIGGER audit_events_no_delete"))
        yield
    db.session.commit()


@pytest.fixture
def events(app):  # type: ignore[no-untyped-def]
    ids = []
    for number in range(5):
        event = record("case.viewed", case_id=number + 1, actor_kind="system", n=number)
        db.session.commit()
        ids.append(event.id)
    # Several in one transaction link to each other too.
    record("case.viewed", case_id=10, actor_kind="system")
    record("case.viewed", case_id=11, actor_kind="system", score=0.25, keys=["a", "b"])
    db.session.commit()
    return ids


def verify(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_an_untouched_chain_verifies(app, events):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "audit chain intact: 7 event(s)" in result.output
    rows = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:], strict=False))
    assert len({row.row_hash for row in rows}) == 7


def test_an_empty_log_verifies(app):
    assert verify_chain().checked == 0 and verify_chain().broken_at is None


@pytest.mark.parametrize(
    "change",
    [
        "action = 'case.closed'",
        "case_id = 99",
        "detail = '{\"n\": 7}'",
        "actor_kind = 'staff'",
        "at = at + interval '1 second'",
    ],
)
def test_a_changed_row_is_found(app, events, change):
    if "interval" in change and not postgresql():
        change = "at = datetime(at, '+1 second')"
    with triggers_off():
        db.session.execute(
            text(f"UPDATE audit_events SET {change} WHERE id = :id"), {"id": events[2]}
        )
    result = verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at event {events[2]}: its content does not match" in result.output
    assert "2 event(s) before it are intact" in result.output


def test_a_changed_row_with_its_hash_recomputed_without_the_key_is_found(app, events):
    """Rewriting the row's own hash (with any other key) breaks the link to the next row."""
    with triggers_off():
        db.session.execute(
            text("UPDATE audit_events SET action = 'x', row_hash = :h WHERE id = :id"),
            {"id": events[2], "h": "f" * 64},
        )
    result = verify(app)
    assert result.exit_code == 1 and f"BROKEN at event {events[2]}" in result.output


def test_a_removed_row_is_found_at_the_next_one(app, events):
    with triggers_off():
        db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1]})
    result = verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at event {events[2]}: its link to the event before" in result.output


def test_a_row_slipped_in_is_found(app, events):
    last = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id.desc())).scalars()
    head = next(iter(last))
    db.session.execute(
        text(
            "INSERT INTO audit_events (id, at, actor_kind, action, detail, prev_hash, row_hash) "
            "VALUES (:id, :at, 'system', 'case.viewed', '{}', :prev, :hash)"
        ),
        {"id": head.id + 1, "at": head.at, "prev": head.row_hash, "hash": "0" * 64},
    )
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1 and f"BROKEN at event {head.id + 1}" in result.output


def test_a_chain_under_another_key_does_not_verify(settings, events):
    other = make_app(settings.replace(hash_key="another-hash-key"))
    with other.app_context():
        check = verify_chain()
    assert check.broken_at == events[0]


def test_emptying_the_log_in_one_statement_is_refused(app, events):
    statement = "TRUNCATE audit_events" if postgresql() else "DELETE FROM audit_events"
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == 7


def test_truncating_through_a_cascade_is_refused_too(app, events):
    if not postgresql():
        pytest.skip("TRUNCATE ... CASCADE exists only on PostgreSQL")
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("TRUNCATE users CASCADE"))
        db.session.commit()
    db.session.rollback()


def test_concurrent_writers_do_not_fork_the_chain(settings):
    """Several apps (as several gunicorn workers) append at the same moment."""
    writers, per_writer = 4, 15
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    apps = [make_app(settings) for _ in range(writers)]  # creating apps is not thread-safe

    def write(number: int) -> None:
        try:
            with apps[number].app_context():
                start.wait(timeout=60)
                for item in range(per_writer):
                    record("case.viewed", case_id=number * 100 + item, actor_kind="system")
                    if item % 3 == 0:  # some transactions hold two rows
                        record("case.viewed", case_id=number, actor_kind="system")
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    app = make_app(settings)
    with app.app_context():
        check = verify_chain()
        prevs = db.session.execute(db.select(AuditEvent.prev_hash)).scalars().all()
    assert check.broken_at is None, check
    assert check.checked == writers * (per_writer + 5) == len(prevs)
    assert len(set(prevs)) == len(prevs), "two events link to the same predecessor"
