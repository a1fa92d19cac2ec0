"""The organisation: its unit tree, and the staff directory used to scrub names from reports."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db.base import Base


class OrgUnit(Base):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    # Materialised path of ids, "/1/4/9/": ancestors and subtrees are prefix queries.
    path: Mapped[str] = mapped_column(String(500), index=True, default="/")
    depth: Mapped[int] = mapped_column(default=0)
    # People in an HR unit are conflicted when a report says HR is involved.
    is_hr: Mapped[bool] = mapped_column(default=False)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])

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
