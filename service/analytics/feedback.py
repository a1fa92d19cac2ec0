""" "You said, we did": what staff raised, and what leadership did about it.

`/you-said-we-did` is public (no sign-in): by quarter and top-level unit, the themes staff
raised (categories with at least k reports in that quarter, by the same release rule as the
HR analytics: a quarter's cell shown only where all three months are) and the actions leaders
published. It never quotes a report and never shows a count, so a theme is only "raised".

Leads and admins write actions at `/staff/you-said-we-did` and publish them there; writing
and publishing are audited.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from marshmallow import Schema, ValidationError, fields, pre_load, validate
from werkzeug.datastructures import MultiDict

from service import audit
from service.analytics import display, periods, query
from service.analytics.anonymity import current_threshold
from service.analytics.cube import CATEGORY_INDEX, SHOWN_REPORTS, OrgTree, load_tree
from service.analytics.periods import Period
from service.auth import roles_required
from service.db import PublishedAction, utcnow
from service.db.rollups import ACTION_TEXT_MAX
from service.extensions import db
from service.labels import label
from service.vocab import CATEGORIES

bp = Blueprint("feedback", __name__, template_folder="templates")
bp.context_processor(display.template_helpers)
QUARTERS_SHOWN = 4
WRITER_ROLES = ("lead", "admin")


def top_units(tree: OrgTree) -> list[int]:
    """The units the page is organised by: below a single root, its children; else the roots."""
    roots = tree.roots
    units = list(tree.children[roots[0]]) if len(roots) == 1 and tree.children[roots[0]] else roots
    return [u for u in units if not tree.retired[u]]


def released_quarters(today: date | None = None) -> list[Period]:
    """The latest complete quarters, newest first."""
    released_to = periods.last_released_day(today or utcnow().date())
    latest = periods.containing("quarter", released_to)
    if latest.end > released_to:
        latest = periods.preceding(latest)
    found = [latest]
    while len(found) < QUARTERS_SHOWN:
        found.append(periods.preceding(found[-1]))
    return [q for q in found if q.start >= query.EARLIEST]


def themes(
    quarters: list[Period], tree: OrgTree, units: list[int]
) -> dict[tuple[date, int], list[str]]:
    """Per (quarter, unit): the categories whose quarter cell is shown (>= k reports)."""
    if not quarters:
        return {}
    threshold = current_threshold()
    _, shown = query._period_slices(quarters, tree, threshold)
    raised: dict[tuple[date, int], list[str]] = {}
    for q, quarter in enumerate(quarters):
        for unit in units:
            raised[(quarter.start, unit)] = [
                category
                for category in CATEGORIES
                if shown[q, unit, CATEGORY_INDEX[category], SHOWN_REPORTS]
            ]
    return raised


@bp.get("/you-said-we-did")
def public_page():  # type: ignore[no-untyped-def]
    tree = load_tree()
    units = top_units(tree)
    quarters = released_quarters()
    raised = themes(quarters, tree, units)
    actions = _published(quarters)
    sections = []
    for quarter in quarters:
        rows = []
        for unit in units:
            done = actions.get((quarter.start, tree.ids[unit]), [])
            said = raised.get((quarter.start, unit), [])
            if said or done:
                rows.append(
                    {
                        "unit": tree.names[unit],
                        "themes": [label("topic", c) for c in said],
                        "actions": done,
                    }
                )
        sections.append({"quarter": quarter, "rows": rows})
    return render_template("feedback/public.html", sections=sections, k=current_threshold().k)


def _published(quarters: list[Period]) -> dict[tuple[date, int], list[dict[str, Any]]]:
    if not quarters:
        return {}
    rows = db.session.execute(
        db.select(PublishedAction)
        .where(
            PublishedAction.published_at.is_not(None),
            PublishedAction.quarter.in_([q.start for q in quarters]),
        )
        .order_by(PublishedAction.published_at, PublishedAction.id)
    ).scalars()
    found: dict[tuple[date, int], list[dict[str, Any]]] = {}
    for action in rows:
        found.setdefault((action.quarter, action.org_unit_id), []).append(
            {
                "theme": label("topic", action.category) if action.category else None,
                "text": action.text,
            }
        )
    return found


# -- the staff page ----------------------------------------------------------------------


class ActionFormSchema(Schema):
    quarter = fields.Date(
        required=True,
        error_messages={
            "required": lazy_gettext("Choose a quarter."),
            "invalid": lazy_gettext("Choose a quarter."),
        },
    )
    unit = fields.Integer(
        required=True,
        error_messages={
            "required": lazy_gettext("Choose a unit."),
            "invalid": lazy_gettext("Choose a unit."),
        },
    )
    category = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(CATEGORIES, error=lazy_gettext("Choose a theme from the list.")),
    )
    text = fields.String(
        required=True,
        validate=validate.Length(
            min=10,
            max=ACTION_TEXT_MAX,
            error=lazy_gettext("Write %(min)s to %(max)s characters.", min=10, max=ACTION_TEXT_MAX),
        ),
        error_messages={"required": lazy_gettext("Say what was done.")},
    )

    @pre_load
    def _from_form(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, MultiDict):
            return data
        cleaned: dict[str, Any] = {"category": data.get("category") or None}
        for name in ("quarter", "unit", "text"):
            value = (data.get(name) or "").strip()
            if value:
                cleaned[name] = value
        return cleaned


def _staff_context(errors=None, values=None):  # type: ignore[no-untyped-def]
    tree = load_tree()
    units = top_units(tree)
    quarters = released_quarters()
    current = periods.containing("quarter", utcnow().date())
    choices = [current, *quarters] if current.start not in {q.start for q in quarters} else quarters
    actions = db.session.execute(
        db.select(PublishedAction).order_by(PublishedAction.quarter.desc(), PublishedAction.id)
    ).scalars()
    names = dict(zip(tree.ids, tree.names, strict=True))
    return {
        "units": [{"id": tree.ids[u], "name": tree.names[u]} for u in units],
        "quarters": choices,
        "categories": [(c, label("topic", c)) for c in CATEGORIES],
        "actions": [
            {
                "id": a.id,
                "quarter": display.period_name(periods.containing("quarter", a.quarter)),
                "unit": names.get(a.org_unit_id, "?"),
                "theme": label("topic", a.category) if a.category else gettext("In general"),
                "text": a.text,
                "published": a.published_at is not None,
            }
            for a in actions
        ],
        "errors": errors or {},
        "values": values or {},
    }


@bp.get("/staff/you-said-we-did")
@roles_required(*WRITER_ROLES)
def staff_page():  # type: ignore[no-untyped-def]
    return render_template("feedback/staff.html", **_staff_context())


@bp.post("/staff/you-said-we-did")
@roles_required(*WRITER_ROLES)
def write_action():  # type: ignore[no-untyped-def]
    context = _staff_context()
    try:
        data = ActionFormSchema().load(request.form)
    except ValidationError as error:
        messages = {str(k): list(v) for k, v in error.normalized_messages().items()}  # type: ignore[union-attr]
        return _refused(messages)
    unit_ids = {u["id"] for u in context["units"]}
    quarter_starts = {q.start for q in context["quarters"]}
    errors: dict[str, list[str]] = {}
    if data["unit"] not in unit_ids:
        errors["unit"] = [gettext("Choose a unit from the list.")]
    if data["quarter"] not in quarter_starts:
        errors["quarter"] = [gettext("Choose a quarter from the list.")]
    if errors:
        return _refused(errors)
    action = PublishedAction(
        quarter=data["quarter"],
        org_unit_id=data["unit"],
        category=data["category"],
        text=data["text"],
        written_by_id=g.user.id,
        written_at=utcnow(),
    )
    db.session.add(action)
    db.session.flush()
    audit.record("action_written", action_id=action.id)
    db.session.commit()
    return redirect(url_for("feedback.staff_page"))


def _refused(errors: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    values = {name: request.form.get(name, "") for name in ("quarter", "unit", "category", "text")}
    return render_template("feedback/staff.html", **_staff_context(errors, values)), 422


@bp.post("/staff/you-said-we-did/<int:action_id>/publish")
@roles_required(*WRITER_ROLES)
def publish_action(action_id: int):  # type: ignore[no-untyped-def]
    action = db.session.get(PublishedAction, action_id)
    if action is None:
        abort(404)
    if action.published_at is None:
        action.published_at = utcnow()
        action.published_by_id = g.user.id
        audit.record(
            "action_published",
            action_id=action.id,
            quarter=action.quarter.isoformat(),
            org_unit_id=action.org_unit_id,
        )
        db.session.commit()
    return redirect(url_for("feedback.staff_page"))
