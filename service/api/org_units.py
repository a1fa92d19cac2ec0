"""GET /api/v1/org-units: the units a reporter may choose."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from service.db import OrgUnit
from service.extensions import db
from service.schemas.reports import OrgUnitListSchema

PREFIX = "/org-units"
blp = Blueprint("org_units", __name__, description="The organisation's units")


@blp.route("")
class OrgUnits(MethodView):
    @blp.response(200, OrgUnitListSchema)
    def get(self):  # type: ignore[no-untyped-def]
        """List the org units, parents before children."""
        units = db.session.execute(db.select(OrgUnit).order_by(OrgUnit.path)).scalars()
        return {"org_units": [{"id": u.id, "name": u.name, "parent": u.parent_id} for u in units]}
