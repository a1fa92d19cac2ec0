"""GET /api/v1/org-units: the units a reporter may choose."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from service.org import active_units
from service.schemas.reports import OrgUnitListSchema

PREFIX = "/org-units"
blp = Blueprint("org_units", __name__, description="The organisation's units")


@blp.route("")
class OrgUnits(MethodView):
    @blp.response(200, OrgUnitListSchema)
    def get(self):  # type: ignore[no-untyped-def]
        """List the org units a report may be about (retired ones are not), parents before
        children."""
        units = active_units()
        return {"org_units": [{"id": u.id, "name": u.name, "parent": u.parent_id} for u in units]}
