"""`rotate_all` (behind `defuse keys rotate`): every encrypted column of every table ends up
under the primary key with its text unchanged, NULLs stay NULL, tokens already under the
primary key are left as they are, the counts say how many were re-encrypted per column, and
the work is committed one batch of rows at a time, whatever order the database returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import event, text

from service.db import Message, Note, User
from service.extensions import db
from service.privacy.crypto import keyring, new_key
from service.privacy.rotation import rotate_all
from tests.factories import report_payload

ENCRYPTED = {
    "users": ["totp_secret"],
    "reports": ["text", "contact", "risk_explanation"],
    "notes": ["body"],
    "messages": ["body"],
}
COLUMNS = sorted(f"{table}.{column}" for table, columns in ENCRYPTED.items() for column in columns)
STATEMENT_BUDGET = 3000  # far more than any rotation here needs: a loop that never ends fails


class Statements:
    """The SQL the app runs: UPDATEs by table, each COMMIT, and a budget so a rotation that
    would never finish fails instead of hanging."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.count = 0

    def before_execute(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        self.count += 1
        if self.count > STATEMENT_BUDGET:
            raise RuntimeError("the rotation does not finish")
        words = statement.split()
        if words[0].upper() == "UPDATE":
            self.log.append(words[1].strip('"'))

    def commit(self, conn) -> None:  # type: ignore[no-untyped-def]
        self.log.append("COMMIT")

    def updates_per_commit(self, table: str) -> list[int]:
        groups, current = [], 0
        for entry in self.log:
            if entry == "COMMIT":
                if current:
                    groups.append(current)
                current = 0
            elif entry == table:
                current += 1
        return groups


@pytest.fixture
def statements(app) -> Iterator[Statements]:  # type: ignore[no-untyped-def]
    watch = Statements()
    event.listen(db.engine, "before_cursor_execute", watch.before_execute)
    event.listen(db.engine, "commit", watch.commit)
    yield watch
    event.remove(db.engine, "before_cursor_execute", watch.before_execute)
    event.remove(db.engine, "commit", watch.commit)


@pytest.fixture
def put_new_key_first(app) -> Iterator[Callable[[], str]]:  # type: ignore[no-untyped-def]
    """Call it to put a fresh key first: rows written before stay under the old key."""
    before = keyring.keys

    def put() -> str:
        fresh = new_key()
        keyring.configure((fresh, *before))
        return fresh

    yield put
    keyring.configure(before)


def raw(table: str, column: str) -> dict[int, str | None]:
    rows = db.session.execute(text(f"SELECT id, {column} FROM {table} ORDER BY id"))
    return {row_id: token for row_id, token in rows}


def all_raw() -> dict[str, dict[int, str | None]]:
    return {
        f"{table}.{column}": raw(table, column)
        for table, columns in ENCRYPTED.items()
        for column in columns
    }


def decrypted(tokens: dict[str, dict[int, str | None]]) -> dict[str, dict[int, str | None]]:
    return {
        name: {i: None if t is None else keyring.decrypt(t) for i, t in rows.items()}
        for name, rows in tokens.items()
    }


def under(key: str, token: str) -> bool:
    try:
        Fernet(key.encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def add_users(count: int, secret: str | None = "JBSWY3DPEHPK3PXP") -> list[int]:
    first = db.session.execute(text("SELECT count(*) FROM users")).scalar_one()
    users = [
        User(email=f"staff{n}@example.com", password_hash="x", role="lead", totp_secret=secret)
        for n in range(first, first + count)
    ]
    db.session.add_all(users)
    db.session.commit()
    return [user.id for user in users]


def test_every_encrypted_column_is_moved_to_the_primary_key_and_reads_the_same(
    app, client, org, statements
):
    db.session.execute(db.update(User).values(totp_secret="JBSWY3DPEHPK3PXP"))
    leader = org.staff["leader"]
    leader.totp_secret = None  # a NULL among the filled ones
    db.session.commit()
    with_contact = report_payload(org, contact="ring me on the ward phone")
    for payload in (with_contact, report_payload(org)):
        assert client.post("/api/v1/reports", json=payload).status_code == 201
    case_id = db.session.execute(text("SELECT min(id) FROM cases")).scalar_one()
    db.session.add_all(
        [
            Note(case_id=case_id, author_id=leader.id, body="first note"),
            Note(case_id=case_id, author_id=leader.id, body="second note"),
            Message(case_id=case_id, from_reporter=True, body="hello"),
            Message(case_id=case_id, from_reporter=False, body=None),
            Message(case_id=case_id, from_reporter=False, body="thanks, on it"),
        ]
    )
    db.session.commit()
    before = all_raw()
    texts = decrypted(before)
    filled = {name: sum(t is not None for t in rows.values()) for name, rows in before.items()}
    # Every column has something to rotate and a row with id 1; several have a NULL too.
    assert all(filled[name] >= 1 for name in COLUMNS) and filled["notes.body"] == 2
    assert all(1 in rows and rows[1] is not None for rows in before.values())
    assert before["reports.contact"][2] is None and None in before["messages.body"].values()
    old = keyring.primary_key

    fresh = new_key()
    keyring.configure((fresh, old))
    try:
        counts = rotate_all()
        after = all_raw()
        assert counts == filled
        assert sorted(counts) == COLUMNS
        for name in COLUMNS:
            for row_id, token in after[name].items():
                if before[name][row_id] is None:
                    assert token is None, (name, row_id)  # NULLs are left alone
                else:
                    assert under(fresh, token) and token != before[name][row_id], (name, row_id)
        assert decrypted(after) == texts  # each row keeps its own text

        # A second run finds nothing to do and rewrites nothing.
        assert rotate_all() == dict.fromkeys(COLUMNS, 0)
        assert all_raw() == after
    finally:
        keyring.configure((old,))
    assert statements.count < STATEMENT_BUDGET


def test_tokens_already_under_the_primary_key_are_kept_and_the_rest_moved(
    app, put_new_key_first, statements
):
    ids = add_users(6)
    new_primary = put_new_key_first()
    current = ids[1::2]  # interleaved with old ones, in the same batch
    for user_id in current:
        db.session.get(User, user_id).totp_secret = "ONLYNEWKEY234567"
    db.session.commit()
    before = raw("users", "totp_secret")
    assert [under(new_primary, before[i]) for i in ids] == [False, True] * 3
    statements.log.clear()

    counts = rotate_all()

    after = raw("users", "totp_secret")
    assert counts["users.totp_secret"] == 3
    # The current ones skipped do not end the batch: the three go in one commit.
    assert statements.updates_per_commit("users") == [3]
    assert all(after[i] == before[i] for i in current)
    assert all(under(new_primary, after[i]) for i in ids)
    db.session.expire_all()
    assert [db.session.get(User, i).totp_secret for i in ids] == [
        "JBSWY3DPEHPK3PXP",
        "ONLYNEWKEY234567",
    ] * 3


@pytest.mark.parametrize(
    ("rows", "batch", "commits"),
    [
        (2, 1, [1, 1]),
        (3, 3, [3]),  # exactly one batch
        (4, 3, [3, 1]),  # one row over
        (7, 3, [3, 3, 1]),
        (6, 3, [3, 3]),
        (500, None, [500]),  # the default batch is 500 rows
        (501, None, [500, 1]),
    ],
)
def test_rows_are_re_encrypted_and_committed_one_batch_at_a_time(
    app, put_new_key_first, statements, rows, batch, commits
):
    ids = add_users(rows)
    add_users(2, secret=None)  # NULLs after them are not part of any batch
    new_primary = put_new_key_first()
    statements.log.clear()

    counts = rotate_all() if batch is None else rotate_all(batch=batch)

    assert counts == {**dict.fromkeys(COLUMNS, 0), "users.totp_secret": rows}
    assert statements.updates_per_commit("users") == commits
    after = raw("users", "totp_secret")
    assert all(under(new_primary, after[i]) for i in ids)
    assert [after[i] for i in after if i not in ids] == [None, None]


def test_rotation_does_not_rely_on_the_order_the_database_happens_to_return(
    app, put_new_key_first, statements
):
    ids = add_users(7)
    new_primary = put_new_key_first()
    if db.engine.dialect.name == "sqlite":
        # SQLite then returns rows of a query without ORDER BY backwards; PostgreSQL promises
        # no order at all for such a query.
        def reverse(dbapi_connection, record, proxy):  # type: ignore[no-untyped-def]
            dbapi_connection.execute("PRAGMA reverse_unordered_selects = ON")

        db.session.remove()
        event.listen(db.engine, "checkout", reverse)
    try:
        counts = rotate_all(batch=2)
    finally:
        if db.engine.dialect.name == "sqlite":
            event.remove(db.engine, "checkout", reverse)
    assert counts["users.totp_secret"] == 7
    after = raw("users", "totp_secret")
    assert all(under(new_primary, after[i]) for i in ids)
