"""The organisation: its unit tree, and the staff directory used to scrub names from reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base

EXTERNAL_ID_MAX = 64
NAME_MAX = 200
PATH_MAX = 500


class OrgUnit(Base):
    """A unit of the organisation. Units are never deleted: reports, rollups and staff point
    at `id`, so a unit keeps its history when it is renamed, moved or retired."""

    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The organisation's own identifier (unit_id in the HR file): what an import matches on.
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    # Materialised path of ids, "/1/4/9/": ancestors and subtrees are prefix queries.
    path: Mapped[str] = mapped_column(String(PATH_MAX), index=True, default="/")
    depth: Mapped[int] = mapped_column(default=0)
    # People in an HR unit are conflicted when a report says HR is involved.
    is_hr: Mapped[bool] = mapped_column(default=False)
    # None for units made before imports existed (the HR file always gives one).
    headcount: Mapped[int | None] = mapped_column()
    # A retired unit is no longer offered to reporters; its history stays in analytics.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    def is_in_line_with(self, other: OrgUnit) -> bool:
        """True if one unit is the other, or above or below it in the tree."""
        return self.path.startswith(other.path) or other.path.startswith(self.path)


class DirectoryName(Base):
    """A staff member's name, kept only so the scrubber can remove it from report text."""

    __tablename__ = "directory_names"

    id: Mapped[int] = mapped_column(primary_key=True)
    first: Mapped[str] = mapped_column(String(100))
    last: Mapped[str | None] = mapped_column(String(100))
