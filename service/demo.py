"""`defuse seed-demo`: a demo organisation to try Defuse with. Idempotent; refused in production.

Staff accounts all use DEMO_PASSWORD. Those whose role requires a second factor (lead, HR
analyst and admin by default) are enrolled with the published DEMO_TOTP_SECRET, so the demo
shows the real two-step sign-in: add the key to an authenticator app, or print the current
code with `defuse demo-code`. Reports are spread over the last six months so the HR
dashboard has enough data to show above the anonymity threshold.
"""

from __future__ import annotations

import io
import logging
import random
from collections.abc import Iterator
from datetime import timedelta

import pyotp
from flask import current_app

from service.db import Case, DirectoryName, OrgUnit, Report, User, utcnow
from service.extensions import db
from service.org import import_org, read_org_csv

DEFAULT_REPORTS = 400
DEMO_PASSWORD = "defuse-demo-password"  # noqa: S105 - documented demo credential, dev only
# Published, like the password: demo data is refused in production.
DEMO_TOTP_SECRET = "DEFUSEDEMOTOTPKEYFORTRYINGITOUT2"  # noqa: S105 - documented demo credential

# The demo organisation as its HR system would export it (see README, "The organisation").
DEMO_ORG_CSV = """\
unit_id,name,parent_unit_id,headcount
HG,Harbourside Group,,12
HG-OPS,Operations,HG,8
HG-OPS-WN,Warehouse North,HG-OPS,140
HG-OPS-WS,Warehouse South,HG-OPS,120
HG-OPS-TR,Transport,HG-OPS,65
HG-CS,Customer Service,HG,6
HG-CS-CC,Call Centre,HG-CS,90
HG-CS-CT,Complaints Team,HG-CS,18
HG-TECH,Technology,HG,4
HG-TECH-PE,Platform Engineering,HG-TECH,45
HG-TECH-PD,Product Design,HG-TECH,15
HG-FIN,Finance,HG,10
HG-FIN-PAY,Payroll,HG-FIN,9
HG-PC,People and Culture,HG,14
HG-FAC,Facilities,HG,22
"""
# HR files do not say which units are HR: an admin marks them (Admin > Organisation).
DEMO_HR_UNITS = ("HG-PC",)

# (email, role, name, unit, on call)
STAFF: tuple[tuple[str, str, str, str | None, bool], ...] = (
    ("admin@demo.defuse", "admin", "Demo Admin", None, False),
    ("lead@demo.defuse", "lead", "Morgan (lead)", "Facilities", True),
    ("leader@demo.defuse", "trust_leader", "Sam (Trust Leader)", "Payroll", False),
    ("leader2@demo.defuse", "trust_leader", "Alex (Trust Leader)", "Product Design", False),
    ("leader3@demo.defuse", "trust_leader", "Jo (Trust Leader)", "Transport", False),
    ("leader4@demo.defuse", "trust_leader", "Kim (Trust Leader)", "Complaints Team", False),
    ("hr@demo.defuse", "hr_analyst", "Demo HR Analyst", "People and Culture", False),
)

# What a demo Trust Leader tells the reporter when closing, by how the case ended.
CLOSING_MESSAGES = {
    "resolved_informally": "Thank you for telling us. We have talked it through and agreed "
    "changes; you can write here again at any time.",
    "referred_formal": "Thank you for telling us. As agreed, this has gone to the formal "
    "process, which will contact you.",
}

# Open cases for leads and Trust Leaders to practise on: (what it shows, category, unit, text,
# extra fields, days since it came in, where it stands). Routing decides who gets each.
PRACTICE_CASES: tuple[tuple[str, str, str, str, dict[str, object], int, str], ...] = (
    (
        "needs a German speaker",
        "retaliation",
        "Warehouse South",
        "Mein Schichtleiter hat gedroht, mich zu entlassen, wenn ich mich noch einmal beschwere.",
        {"language": "de", "involved": ["my manager"]},
        1,
        "new",
    ),
    (
        "no one may take it",
        "management",
        "Harbourside Group",
        "Decisions at group level are made without any consultation and people who question "
        "them are sidelined.",
        {"involved": ["senior manager"]},
        2,
        "new",
    ),
    (
        "overdue",
        "workload",
        "Call Centre",
        "Our targets doubled this month and breaks are being cut short to meet them.",
        {},
        9,
        "new",
    ),
    (
        "feedback due",
        "interpersonal",
        "Platform Engineering",
        "A colleague keeps taking credit for my work in front of the team.",
        {"duration": "months"},
        82,
        "in_conversation",
    ),
)

DIRECTORY = ("John Miller", "Priya Patel", "Tomasz Nowak", "Grace Okafor", "Liam O'Brien")

# (category, unit, text, extra fields)
DEMO_REPORTS: tuple[tuple[str, str, str, dict[str, object]], ...] = (
    (
        "bullying",
        "Warehouse North",
        "My shift lead shouts at me in front of everyone most days and calls me useless. It has "
        "been going on for months and I dread coming in. I told my manager in March and nothing "
        "changed. I am not sleeping and I have started looking for other jobs.",
        {
            "duration": "months",
            "raised_before": True,
            "raised_with": ["my manager"],
            "involved": ["my manager"],
            "desired_outcome": "conversation",
        },
    ),
    (
        "workload",
        "Call Centre",
        "Since two people left we are covering their calls as well as ours and nobody has said "
        "when they will be replaced. Most of us are skipping breaks. I just want someone to know.",
        {
            "duration": "weeks",
            "raised_before": False,
            "involved": ["a group of colleagues"],
            "desired_outcome": "be_heard",
        },
    ),
    (
        "harassment",
        "Platform Engineering",
        "A senior colleague keeps commenting on my body and sending me messages late at night. "
        "I asked him to stop and he laughed. I am scared that if I make a formal complaint it "
        "will affect my promotion.",
        {
            "duration": "months",
            "raised_before": True,
            "raised_with": ["colleague"],
            "involved": ["senior manager"],
            "desired_outcome": "formal_action",
        },
    ),
    (
        "interpersonal",
        "Product Design",
        "Two of us disagree about how reviews should run and the meetings have become tense. "
        "It is not serious, I would just like help to talk about it calmly.",
        {
            "duration": "weeks",
            "raised_before": False,
            "involved": ["a peer"],
            "desired_outcome": "mediation",
        },
    ),
    (
        "safety",
        "Warehouse South",
        "The forklift brakes have been failing for weeks. I reported it twice and was told to "
        "keep working. Yesterday one nearly hit a colleague. Someone is going to get hurt.",
        {
            "duration": "weeks",
            "raised_before": True,
            "raised_with": ["my manager"],
            "involved": ["my manager"],
            "urgency": "urgent",
            "desired_outcome": "formal_action",
        },
    ),
    (
        "pay",
        "Payroll",
        "My overtime has been paid late three months running and each time I am told it is a "
        "system issue. I have spoken to my union rep about it.",
        {
            "duration": "months",
            "raised_before": True,
            "raised_with": ["union rep"],
            "involved": ["hr"],
            "desired_outcome": "conversation",
        },
    ),
    (
        "discrimination",
        "Complaints Team",
        "Since I told my manager I was pregnant I have been taken off the projects I led and my "
        "hours were cut. A friend says this could go to a tribunal.",
        {
            "duration": "months",
            "raised_before": False,
            "involved": ["my manager"],
            "desired_outcome": "formal_action",
        },
    ),
    (
        "management",
        "Transport",
        "Our new manager changes the rota at the last minute without asking anyone. It is "
        "frustrating but things have been a bit better this week.",
        {
            "duration": "weeks",
            "raised_before": False,
            "involved": ["my manager"],
            "desired_outcome": "be_heard",
        },
    ),
    (
        "retaliation",
        "Call Centre",
        "After I raised concerns about how complaints were being closed, my shifts were moved "
        "to nights and I was left out of team meetings. I feel I am being punished.",
        {
            "duration": "months",
            "raised_before": True,
            "raised_with": ["senior manager"],
            "involved": ["senior manager"],
            "desired_outcome": "conversation",
        },
    ),
    (
        "other",
        "Facilities",
        "The office is very noisy since the move and it is hard to concentrate on calls. Not a "
        "big deal, just wanted to be heard.",
        {"duration": "weeks", "raised_before": False, "desired_outcome": "be_heard"},
    ),
)


def ensure_org() -> dict[str, OrgUnit]:
    """The demo organisation, through the same import as a real one; the caller commits."""
    rows = read_org_csv(io.StringIO(DEMO_ORG_CSV))
    _adopt_units_seeded_before_imports({row.name: row.unit_id for row in rows})
    import_org(io.StringIO(DEMO_ORG_CSV))
    units = {u.external_id: u for u in db.session.execute(db.select(OrgUnit)).scalars()}
    for unit_id in DEMO_HR_UNITS:
        units[unit_id].is_hr = True
    return {units[row.unit_id].name: units[row.unit_id] for row in rows}


def _adopt_units_seeded_before_imports(demo_ids: dict[str, str]) -> None:
    """A demo database seeded before org imports existed has the demo units under their
    database ids (migration 0003 gave them those as external ids): give them the demo ids, so
    the import keeps them, with their reports and staff, instead of retiring them."""
    for unit in db.session.execute(db.select(OrgUnit)).scalars():
        if unit.external_id == str(unit.id) and unit.name in demo_ids:
            unit.external_id = demo_ids[unit.name]
    db.session.commit()


def ensure_staff(units: dict[str, OrgUnit]) -> list[str]:
    from service.people import create_user

    created = []
    for email, role, name, unit_name, on_call in STAFF:
        if db.session.execute(db.select(User.id).where(User.email == email)).first():
            continue
        create_user(
            email=email,
            role=role,
            name=name,
            password=DEMO_PASSWORD,
            org_unit_id=units[unit_name].id if unit_name else None,
            on_call=on_call,
        )
        created.append(email)
    _enrol_demo_second_factors()
    return created


def _enrol_demo_second_factors() -> None:
    """Give the demo staff who need a second factor the published demo key; also for a demo
    database seeded before second factors existed."""
    required = current_app.config["DEFUSE"].totp_required_roles
    emails = [email for email, *_ in STAFF]
    for user in db.session.execute(
        db.select(User).where(User.email.in_(emails), User.role.in_(required))
    ).scalars():
        if user.totp_secret is None and not user.has_second_factor:
            user.totp_secret = DEMO_TOTP_SECRET
            user.totp_enabled_at = utcnow()
    db.session.commit()


def demo_code() -> str:
    """The current code for the demo key, as an authenticator app would show it."""
    return pyotp.TOTP(DEMO_TOTP_SECRET).now()


def seed(reports: int = DEFAULT_REPORTS) -> Iterator[str]:
    if current_app.config["DEFUSE"].production:
        raise RuntimeError("refusing to seed demo data in production")
    units = ensure_org()
    if not db.session.execute(db.select(DirectoryName.id)).first():
        for full in DIRECTORY:
            first, _, last = full.partition(" ")
            db.session.add(DirectoryName(first=first, last=last or None))
    db.session.commit()
    from service.privacy import forget_scrubber

    forget_scrubber()
    yield f"org units: {len(units)}"
    for email in ensure_staff(units):
        yield f"created {email}"
    existing = db.session.scalar(db.select(db.func.count()).select_from(Report)) or 0
    if existing:
        yield f"{existing} reports already present; not adding more"
    else:
        # One "case N routed" line per demo report would bury what the command says.
        routing_log = logging.getLogger("service.routing")
        level = routing_log.level
        routing_log.setLevel(logging.WARNING)
        try:
            yield f"submitted {_submit_demo_reports(units, reports)} demo reports"
            yield from _add_practice_cases(units)
        finally:
            routing_log.setLevel(level)
    yield f"staff sign in at /login with password: {DEMO_PASSWORD}"
    required = current_app.config["DEFUSE"].totp_required_roles
    if required:
        yield (
            f"{', '.join(required)} accounts also need a code: add the key {DEMO_TOTP_SECRET} "
            "to an authenticator app, or run `defuse demo-code`"
        )


def _submit_demo_reports(units: dict[str, OrgUnit], count: int) -> int:
    """Submit through the real intake path (scrub, score, route). The first batch stays recent
    and open, for the Trust Leaders' queues; the rest are re-dated over six months, spread
    unevenly over the units (so the HR dashboard has groups above the anonymity threshold and
    a few units that stand out), and worked through to an outcome by their Trust Leader."""
    from service.analytics.rollups import move_report_day
    from service.intake.service import submit_report

    rng = random.Random(7)  # noqa: S311 - reproducible demo data, not security
    today = utcnow().date()
    busy_units = ("Call Centre", "Warehouse North", "Warehouse South", "Platform Engineering")
    for i in range(count):
        category, unit_name, text, extra = DEMO_REPORTS[i % len(DEMO_REPORTS)]
        historic = i >= len(DEMO_REPORTS)
        if historic and rng.random() < 0.6:
            unit_name = rng.choice(busy_units)
        submission = submit_report(
            {"org_unit": units[unit_name].id, "category": category, "text": text, **extra}
        )
        if historic:
            report = db.session.get(Report, submission.report_id)
            move_report_day(report, today - timedelta(days=rng.randint(7, 180)))
            db.session.commit()
            _work_through(db.session.get(Case, submission.case_id), rng)
    db.session.commit()
    return count


def _add_practice_cases(units: dict[str, OrgUnit]) -> Iterator[str]:
    """Submit the practice cases through the real path, then date them back so their
    deadlines have come (the worker's next deadline checks warn and alert as they would)."""
    from service.analytics.rollups import move_report_day
    from service.cases.service import transition
    from service.intake.service import submit_report

    now = utcnow()
    for label, category, unit_name, text, extra, days_ago, status in PRACTICE_CASES:
        submission = submit_report(
            {"org_unit": units[unit_name].id, "category": category, "text": text, **extra}
        )
        case = db.session.get(Case, submission.case_id)
        report = db.session.get(Report, submission.report_id)
        assert case is not None and report is not None
        move_report_day(report, (now - timedelta(days=days_ago)).date())
        shift = timedelta(days=days_ago)
        case.opened_at -= shift
        case.ack_due_at -= shift
        case.feedback_due_at -= shift
        db.session.commit()
        if status == "in_conversation" and case.assignee is not None:
            transition(case.assignee, case, "acknowledged")
            case.acknowledged_at = case.opened_at + timedelta(days=1)  # as it was, in time
            transition(case.assignee, case, "in_conversation")
        yield f"practice case {case.id}: {label}"


def _work_through(case: Case, rng: random.Random) -> None:
    """Acknowledge and close a historic demo case the way its level suggests: riskier cases
    more often end in a formal process."""
    from service.cases.service import transition

    assignee = db.session.get(User, case.assignee_id) if case.assignee_id else None
    if assignee is None:
        return  # left in the leads' unassigned queue, as routing decided
    transition(assignee, case, "acknowledged")
    formal_odds = {"low": 0.05, "moderate": 0.2, "high": 0.45, "critical": 0.6}
    if rng.random() < formal_odds.get(case.report.risk_level or "low", 0.2):
        resolution, outcome = "referred_formal", rng.choice(("formal_grievance", "legal_claim"))
    else:
        resolution, outcome = "resolved_informally", rng.choice(("resolved", "mediated"))
    transition(
        assignee,
        case,
        "closed",
        resolution=resolution,
        outcome=outcome,
        closing_message=CLOSING_MESSAGES[resolution],
    )
