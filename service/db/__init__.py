"""SQLAlchemy models, one module per aggregate. Import models from here."""

from service.db.audit import AuditEvent
from service.db.base import Base, this_hour, to_day, to_hour, utcnow
from service.db.cases import Case, GuideTick, Message, Note, OutboxEntry
from service.db.notifications import Notification
from service.db.org import DirectoryName, OrgUnit
from service.db.people import ApiToken, RecoveryCode, User
from service.db.reports import Report
from service.db.submissions import SubmissionKey

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "Case",
    "DirectoryName",
    "GuideTick",
    "Message",
    "Note",
    "Notification",
    "OrgUnit",
    "OutboxEntry",
    "RecoveryCode",
    "Report",
    "SubmissionKey",
    "User",
    "to_hour",
    "to_day",
    "this_hour",
    "utcnow",
]

from service.db.rollups import (  # noqa: E402
    AcknowledgementRollup,
    PublishedAction,
    ReleasedCells,
    ReleasedMonth,
    ResolutionRollup,
    RiskRollup,
)

__all__ += [
    "AcknowledgementRollup",
    "PublishedAction",
    "ReleasedCells",
    "ReleasedMonth",
    "ResolutionRollup",
    "RiskRollup",
]
