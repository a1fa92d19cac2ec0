"""The organisation's unit tree: read from its HR file (`defuse org import`), edited by admins,
offered to reporters while active, and kept (renamed, moved or retired) for the analytics."""

from service.org.changes import KINDS, Change, OrgChanges, plan_import, report_lines
from service.org.csvfile import COLUMNS, OrgFileError, UnitRow, read_org_csv
from service.org.service import (
    ConcurrentChange,
    OrgEditError,
    UnitEdit,
    active_units,
    all_units,
    case_workers_in,
    find_unit,
    import_org,
    in_tree_order,
    recompute_paths,
    update_unit,
)

__all__ = [
    "COLUMNS",
    "KINDS",
    "Change",
    "ConcurrentChange",
    "OrgChanges",
    "OrgEditError",
    "OrgFileError",
    "UnitEdit",
    "UnitRow",
    "active_units",
    "all_units",
    "case_workers_in",
    "find_unit",
    "import_org",
    "in_tree_order",
    "plan_import",
    "read_org_csv",
    "recompute_paths",
    "report_lines",
    "update_unit",
]
