"""What the case page reads from the engine's explanation, the listening-guide checklist (ticks,
their audit trail, earlier ticks, an unavailable library) and the guide chosen again when a
case is reassigned."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select

import service.guides as guide_package
from service.cases import service
from service.cases.service import (
    ExplanationView,
    FiredRule,
    ModelTerm,
    QueueFilters,
    WorkflowError,
)
from service.db import AuditEvent, Case, GuideTick, utcnow
from service.engine.facts import ReportFacts
from service.engine.risk import ModelPrediction, RiskEngine
from service.engine.rules import load_rule_set
from service.extensions import db
from service.guides import get_guides
from service.guides.model import GuideError
from tests.cases.support import case_for
from tests.engine.helpers import RULES_DIR, facts
from tests.routing.test_guide_language import GERMAN, _routed, _speaking

NOT_IN_GUIDE = "That step is not part of this case's guide."
UNAVAILABLE = "listening guide unavailable for a case: GuideError"


# --- the explanation view -------------------------------------------------------------------


class FittedModel:
    """A classifier reading English, which has fitted a weight for the legal rule."""

    version = "fake-2.1"
    languages = ("en",)

    def __init__(self, probability: float) -> None:
        self.probability = probability

    def predict(self, report: ReportFacts, fired_rules: Sequence[str] = ()) -> ModelPrediction:
        fitted = {rule: 1.3 for rule in fired_rules if rule == "legal-001"}
        return ModelPrediction(
            self.probability, [("lawyer", 0.8123456), ("tribunal", -0.25)], fitted
        )


def _stored(explanation: dict) -> dict:  # type: ignore[type-arg]
    """As the report keeps it: through JSON."""
    return json.loads(json.dumps(explanation))


def _expected(explanation: dict) -> ExplanationView:  # type: ignore[type-arg]
    model = explanation["model"] or {}
    forced = explanation["forced_level"] or {}
    return ExplanationView(
        score=explanation["score"],
        raw_score=explanation["raw_score"],
        base_source=explanation["base"]["source"],
        base_probability=explanation["base"]["probability"],
        rules=[
            FiredRule(
                id=rule["id"],
                title=rule["title"],
                summary=rule["summary"],
                weight=rule["weight"],
                min_level=rule["min_level"],
                matched=rule["matched"],
                tags=tuple(rule["tags"]),
            )
            for rule in explanation["rules"]
        ],
        model_version=model.get("version") or explanation["model_version"],
        model_probability=model.get("probability"),
        terms=[ModelTerm(term["term"], term["weight"]) for term in model.get("top_terms", [])],
        hotspot_applied=explanation["hotspot"]["applied"],
        hotspot_boost=explanation["hotspot"]["boost"],
        forced_level=forced.get("level"),
        forced_by=forced.get("by", []),
        rule_pack_version=explanation["rule_pack_version"],
    )


def test_the_explanation_view_shows_every_figure_the_engine_gave():
    engine = RiskEngine(load_rule_set(RULES_DIR), FittedModel(0.02), hotspot_boost=0.15)
    assessment = engine.assess(
        facts(
            "I've spoken to a solicitor and will take them to an employment tribunal.",
            involved=["my manager"],
            category="retaliation",
        ),
        hotspot=True,
    )
    explanation = _stored(assessment.explanation)

    view = service.explanation_view(explanation)

    assert view == _expected(explanation)
    # The figures the page shows, as the engine gave them (none of them a default).
    assert (view.base_source, view.base_probability) == ("model", 0.02)
    assert view.raw_score == explanation["raw_score"] < view.score
    assert (view.model_version, view.model_probability) == ("fake-2.1", 0.02)
    assert view.terms == [ModelTerm("lawyer", 0.8123), ModelTerm("tribunal", -0.25)]
    assert (view.hotspot_applied, view.hotspot_boost) == (True, 0.15)
    assert (view.forced_level, view.forced_by) == ("high", ["legal-002"])
    weights = {rule.id: (rule.weight, rule.min_level) for rule in view.rules}
    assert weights["legal-001"] == (1.3, "moderate")  # fitted by the model
    assert weights["power-001"] == (0.6, None)  # the rule pack's own
    assert weights["legal-002"][1] == "high"
    assert view.rule_pack_version == engine.rules.version


def test_a_report_the_model_cannot_read_still_names_the_model_version():
    engine = RiskEngine(load_rule_set(RULES_DIR), FittedModel(0.5))
    explanation = _stored(engine.assess(facts(GERMAN, language="de")).explanation)
    assert explanation["model"] is None

    view = service.explanation_view(explanation)

    assert view == _expected(explanation)
    assert (view.model_version, view.model_probability, view.terms) == ("fake-2.1", None, [])
    assert view.base_source == "prior"


@pytest.mark.parametrize(
    ("explanation", "version"),
    [
        ({"model": {"version": "model-3"}, "model_version": "top-2"}, "model-3"),
        ({"model": {"probability": 0.4}, "model_version": "top-2"}, "top-2"),
        ({"model": {"version": ""}, "model_version": "top-2"}, "top-2"),
        ({"model": None}, None),
    ],
)
def test_the_model_part_names_the_version_before_the_top_level_does(explanation, version):
    assert service.explanation_view(explanation).model_version == version


# --- the listening guide ----------------------------------------------------------------------


@pytest.fixture
def case(org, leader):  # type: ignore[no-untyped-def]
    return case_for(org, leader, "high")


@pytest.fixture
def broken_guides(monkeypatch):  # type: ignore[no-untyped-def]
    """A guide library that cannot be loaded (a bad file shipped)."""

    def unloadable():  # type: ignore[no-untyped-def]
        raise GuideError(["guides/bullying.yaml: steps: missing"])

    monkeypatch.setattr(guide_package, "get_guides", unloadable)


def _events(case: Case, action: str) -> list[tuple[int | None, int | None, dict]]:  # type: ignore[type-arg]
    rows = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).scalars()
    return [(event.case_id, event.actor_id, event.detail) for event in rows]


def _warnings(caplog) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.getMessage() for r in caplog.records if r.name == "service.cases.service"]


def test_ticking_and_unticking_steps_counts_the_changes_and_audits_each(case, leader):
    first, second, third = [step.key for step in service.guide_progress(case).steps][:3]

    assert service.set_steps(leader, case, [(first, True), (second, True)]) == 2
    assert _events(case, "guide.step_ticked") == [
        (case.id, leader.id, {"step": first}),
        (case.id, leader.id, {"step": second}),
    ]
    # Ticking a ticked step again, or unticking one never ticked, changes nothing.
    assert service.set_steps(leader, case, [(first, True), (third, False)]) == 0
    assert set(service.ticks_of(case)) == {first, second}
    assert len(_events(case, "guide.step_ticked")) == 2

    ticked_at = service.ticks_of(case)[first].ticked_at
    assert service.set_steps(leader, case, [(first, False)]) == 1
    assert _events(case, "guide.step_unticked") == [
        (
            case.id,
            leader.id,
            {"step": first, "ticked_at": ticked_at.isoformat(timespec="seconds")},
        )
    ]
    assert set(service.ticks_of(case)) == {second}
    progress = service.guide_progress(case)
    assert [step.key for step in progress.steps if step.ticked] == [second]
    assert progress.ticked == 1


@pytest.mark.parametrize("ticked", [True, False])
def test_a_step_outside_the_guide_is_refused_with_the_field_named(case, leader, ticked):
    with pytest.raises(WorkflowError) as refused:
        service.set_steps(leader, case, [("not-a-step", ticked)])
    assert (refused.value.message, refused.value.field) == (NOT_IN_GUIDE, "step")
    assert refused.value.status_code == 422
    assert service.ticks_of(case) == {}


def test_a_step_ticked_on_another_case_is_still_to_tick_on_this_one(org, case, leader):
    other = case_for(org, leader, "high")
    key = next(service.guide_progress(case).guide.steps()).key
    assert service.set_steps(leader, other, [(key, True)]) == 1
    assert service.set_steps(leader, case, [(key, True)]) == 1
    assert set(service.ticks_of(case)) == {key}


def test_a_step_ticked_elsewhere_at_the_same_moment_counts_as_no_change(org, case, leader):
    key = next(service.guide_progress(case).guide.steps()).key
    # The other tick is written between this request's look-up and its own insert.
    with db.session.no_autoflush:
        db.session.add(GuideTick(case_id=case.id, step_key=key, ticked_by_id=leader.id))
        assert service.set_steps(leader, case, [(key, True)]) == 0
    assert set(service.ticks_of(case)) == {key}
    assert _events(case, "guide.step_ticked") == []


def test_the_checklist_marks_the_steps_of_the_case_level(case):
    guide = get_guides().for_case(case.report.category, "high", case.guide_language or "en")
    progress = service.guide_progress(case)
    levels = [step.level for step in progress.steps]
    assert levels == [step.level for step in guide.steps()]
    assert "high" in levels and None in levels


def test_ticks_on_steps_the_guide_no_longer_has_are_listed_earlier_oldest_first(case, leader):
    now = utcnow()
    for key, ago in (("retired-later", 1), ("retired-sooner", 5)):
        db.session.add(
            GuideTick(
                case_id=case.id,
                step_key=key,
                ticked_by_id=leader.id,
                ticked_at=now - timedelta(minutes=ago),
            )
        )
    db.session.commit()

    progress = service.guide_progress(case)

    assert [tick.step_key for tick in progress.earlier] == ["retired-sooner", "retired-later"]
    assert progress.ticked == 0 and progress.total == len(list(progress.guide.steps()))


def test_without_the_guide_library_the_case_keeps_its_ticks(case, leader, broken_guides, caplog):
    db.session.add(GuideTick(case_id=case.id, step_key="listened", ticked_by_id=leader.id))
    db.session.commit()
    caplog.set_level(logging.WARNING)

    progress = service.guide_progress(case)

    assert progress.guide is None and progress.steps == []
    assert [tick.step_key for tick in progress.earlier] == ["listened"]
    assert _warnings(caplog) == [UNAVAILABLE]


def test_steps_cannot_be_ticked_while_the_guide_library_is_unavailable(case, leader, broken_guides):
    with pytest.raises(WorkflowError) as refused:
        service.set_steps(leader, case, [("listened", True)])
    assert refused.value.message == (
        "The listening guide is not available right now; try again later."
    )
    assert refused.value.field is None


# --- the guide chosen again on reassignment ---------------------------------------------------


def _guide(case: Case, language: str):  # type: ignore[no-untyped-def]
    return get_guides().for_case(case.report.category, case.report.risk_level, language)


def _recorded(case: Case) -> tuple[str | None, str | None, str | None]:
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    return case.guide_id, case.guide_version, case.guide_language


def test_reassignment_chooses_the_guide_language_for_the_new_leader(org):
    lead = org.staff["lead"]
    _speaking(org, {"leader3": ["en", "de"], "leader2": ["en", "de"]})
    case = _routed(org, language="de", text=GERMAN)
    first = case.assignee_id
    german, english = _guide(case, "de"), _guide(case, "en")
    assert _recorded(case) == (german.guide_id, german.version, "de")
    other = org.staff["leader2"] if first == org.staff["leader3"].id else org.staff["leader3"]

    # Another German speaker: the language stays, and so does the version recorded.
    case.guide_version = "bullying@1+common@1"
    db.session.commit()
    service.reassign(lead, case, other.id)
    assert _recorded(case) == (german.guide_id, "bullying@1+common@1", "de")

    # Someone who reads only English gets the English guide, at its current version.
    service.reassign(lead, case, org.staff["leader"].id, "Nobody else is free this week.")
    assert _recorded(case) == (english.guide_id, english.version, "en")

    # Back with a German speaker: German again.
    service.reassign(lead, case, first)
    assert _recorded(case) == (german.guide_id, german.version, "de")


def test_a_case_from_before_languages_were_recorded_keeps_its_guide(org, leader):
    lead = org.staff["lead"]
    _speaking(org, {})
    case = case_for(org, leader)
    case.guide_language, case.guide_version = None, "bullying@1+common@1"
    db.session.commit()
    guide_id = case.guide_id
    assert guide_id is not None

    service.reassign(lead, case, org.staff["leader3"].id)
    assert _recorded(case) == (guide_id, "bullying@1+common@1", None)

    # One with no guide recorded at all gets one.
    case = db.session.get(Case, case.id)
    case.guide_id = case.guide_version = None
    db.session.commit()
    service.reassign(lead, case, leader.id)
    english = _guide(case, "en")
    assert _recorded(case) == (english.guide_id, english.version, "en")


def test_reassignment_goes_ahead_without_the_guide_library(org, case, broken_guides, caplog):
    before = _recorded(case)
    caplog.set_level(logging.WARNING)
    service.reassign(org.staff["lead"], case, org.staff["leader3"].id)
    assert db.session.get(Case, case.id).assignee_id == org.staff["leader3"].id
    assert _recorded(case) == before
    assert _warnings(caplog) == [UNAVAILABLE]


# --- views audited and the queue's unread count ----------------------------------------------


def test_opening_a_case_is_audited_as_seen_on_its_page_by_that_user(case, leader):
    service.record_view(leader, case)
    service.record_view(leader, case, via="api")
    assert _events(case, "case.viewed") == [
        (case.id, leader.id, {"via": "page"}),
        (case.id, leader.id, {"via": "api"}),
    ]


def test_the_queue_counts_no_unread_messages_on_a_quiet_case(case, leader):
    rows, total = service.list_queue(leader, QueueFilters(scope="mine"))
    assert [(row.case.id, row.unread) for row in rows] == [(case.id, 0)]
    assert total == 1
