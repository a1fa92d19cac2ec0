"""`defuse keys rotate`: re-encrypt every encrypted column under the primary key.

Works in batches on the raw column values (Fernet tokens), so no text is ever decrypted into
an ORM object, and the app keeps serving meanwhile: MultiFernet decrypts old and new alike.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, Text, literal, select, type_coerce, update

from service.extensions import db
from service.privacy.crypto import EncryptedText, keyring


def encrypted_columns() -> list[tuple[Table, Column]]:  # type: ignore[type-arg]
    return [
        (table, column)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    ]


def rotate_all(batch: int = 500) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, column in encrypted_columns():
        name = f"{table.name}.{column.name}"
        counts[name] = 0
        (pk,) = table.primary_key.columns
        raw = type_coerce(column, Text)  # the stored token, not decrypted
        last_id = 0
        while True:
            rows = db.session.execute(
                select(pk, raw).where(pk > last_id, column.is_not(None)).order_by(pk).limit(batch)
            ).all()
            if not rows:
                break
            for row_id, token in rows:
                last_id = row_id
                if keyring.is_current(token):
                    continue
                db.session.execute(
                    update(table)
                    .where(pk == row_id)
                    .values({column.name: literal(keyring.rotate(token), Text)})
                )
                counts[name] += 1
            db.session.commit()
    return counts
