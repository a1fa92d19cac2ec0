"""How conditions match: words, inflections, stems, negation, except, regex, fields, all/any/not."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from service.engine.rules import RuleSet
from service.engine.terms import word_forms

from .helpers import facts, fires, matched

RuleWith = Callable[..., RuleSet]


class TestWords:
    def test_case_insensitive_whole_words(self, rule_with: RuleWith) -> None:
        rules = rule_with("words: [union rep]")
        assert fires(rules, "My UNION Rep is coming.")
        assert not fires(rules, "The reunion reps met.")
        assert not fires(rules, "union representative")  # "rep" is a whole word

    @pytest.mark.parametrize("text", ["harass", "harassed", "harassing", "harasses"])
    def test_inflections(self, rule_with: RuleWith, text: str) -> None:
        assert fires(rule_with("words: [harass]"), f"He {text} me.")

    def test_inflections_do_not_reach_derived_words(self, rule_with: RuleWith) -> None:
        assert not fires(rule_with("words: [harass]"), "This is harassment.")

    @pytest.mark.parametrize(
        ("term", "text"),
        [
            ("bully", "bullied"),
            ("bully", "bullies"),
            ("bully", "bullying"),
            ("sue", "suing"),
            ("sue", "sued"),
            ("quit", "quitting"),
            ("resign", "resigning"),
            ("resign", "resigned"),
            ("manager", "manager's"),
            ("manager", "managers"),
            ("leave the company", "leaving the company"),
        ],
    )
    def test_simple_english_forms(self, rule_with: RuleWith, term: str, text: str) -> None:
        assert fires(rule_with(f"words: [{term}]"), f"x {text} y")

    def test_inflection_can_be_switched_off(self, rule_with: RuleWith) -> None:
        rules = rule_with("words: [harass]\ninflect: false")
        assert fires(rules, "harass")
        assert not fires(rules, "harassed")

    def test_short_words_are_not_inflected(self) -> None:
        assert word_forms("a", inflect=True) == {"a", "a's", "as'"}

    @pytest.mark.parametrize("text", ["resign", "resigned", "resigning", "resignation"])
    def test_stems(self, rule_with: RuleWith, text: str) -> None:
        assert fires(rule_with("words: ['resign*']"), f"My {text}.")

    def test_stem_needs_the_start_of_a_word(self, rule_with: RuleWith) -> None:
        assert not fires(rule_with("words: ['resign*']"), "I will re-sign the form")

    def test_phrases_match_across_spaces_and_hyphens_not_punctuation(
        self, rule_with: RuleWith
    ) -> None:
        rules = rule_with("words: [self harm, formal complaint]")
        assert fires(rules, "thoughts of self-harm")
        assert fires(rules, "a formal\n  complaint")
        assert not fires(rules, "It was formal. Complaint letters are next.")

    def test_apostrophes_curly_or_straight(self, rule_with: RuleWith) -> None:
        rules = rule_with("words: [can't sleep]")
        assert fires(rules, "I can’t sleep")
        assert fires(rules, "I CAN'T SLEEP")

    def test_matched_words_are_reported(self, rule_with: RuleWith) -> None:
        rules = rule_with("words: [lawyer, harass]")
        assert matched(rules, "He harassed me so I called a Lawyer and another lawyer.") == [
            "harassed",
            "lawyer",
        ]

    def test_except_cancels_only_overlapping_matches(self, rule_with: RuleWith) -> None:
        rules = rule_with("words: [grievance]\nexcept: [grievance policy]")
        assert not fires(rules, "The grievance policy was updated.")
        assert fires(rules, "I raised a grievance about the policy.")
        assert matched(rules, "The grievance policy... and my grievance.") == ["grievance"]


class TestNegation:
    LAWYER = "words: [lawyer, going to quit]"

    @pytest.mark.parametrize(
        "text",
        [
            "I am not going to a lawyer.",
            "I won't be going to a lawyer about any of this.",
            "I have no intention of going to a lawyer.",
            "I don’t want to involve a lawyer.",
            "I'm not going to quit, I love this job.",
        ],
    )
    def test_negated_mentions_are_ignored_by_default(self, rule_with: RuleWith, text: str) -> None:
        assert not fires(rule_with(self.LAWYER), text)

    @pytest.mark.parametrize(
        "text",
        [
            "I am going to a lawyer.",
            "I'm not sleeping, so I went to a lawyer.",  # the clause ended at the comma
            "It is not okay and I have a lawyer now.",  # ... and at "and"
            "I didn't report it before but now I have a lawyer.",
            "Not once, not twice, but many times, and now I'm seeing my lawyer.",
            "No one listened, so I found a lawyer.",  # "no one" is not a negation
        ],
    )
    def test_mentions_outside_a_negation_count(self, rule_with: RuleWith, text: str) -> None:
        assert fires(rule_with(self.LAWYER), text)

    @pytest.mark.parametrize(
        "text",
        [
            "He won't stop harassing me.",
            "I can't take the harassment anymore.",
            "I didn't report the harassment.",
            "He never apologised for the harassment.",
        ],
    )
    def test_pseudo_negations_do_not_deny(self, rule_with: RuleWith, text: str) -> None:
        assert fires(rule_with("words: ['harass*']"), text)

    def test_negation_reaches_only_a_few_words(self, rule_with: RuleWith) -> None:
        rules = rule_with("words: [lawyer]")
        assert not fires(rules, "I do not think that it would help to call a lawyer")
        assert fires(rules, "I did not expect, after six long difficult weeks, my lawyer")
        assert fires(rules, "Not that I mind, really, honestly, truly, deeply: a lawyer")

    def test_commas_and_quotes_stay_in_scope(self, rule_with: RuleWith) -> None:
        rules = rule_with("words: [grievance]")
        assert not fires(rules, "I do not wish to pursue any claim, grievance or complaint.")
        assert not fires(rules, 'I do not want a "grievance" out of this.')
        assert fires(rules, "No, I raised a grievance.")  # "No," answers, it does not deny
        assert fires(rules, "I do not sleep. I raised a grievance.")
        assert not fires(rules, "I do not want [name] to face a grievance.")

    @pytest.mark.parametrize(
        "text",
        [
            "My sister said I could take it to a tribunal, which made me laugh.",
            "A friend told me I should get a lawyer.",
            "My dad says I should get a lawyer.",
            "My mum keeps saying I should take it to a tribunal.",
        ],
    )
    def test_someone_elses_suggestion_reads_as_negated(
        self, rule_with: RuleWith, text: str
    ) -> None:
        assert not fires(rule_with("words: [lawyer, to a tribunal]"), text)
        assert fires(rule_with("words: [lawyer, to a tribunal]\nwhen_negated: only"), text)

    def test_own_intentions_are_not_suggestions(self, rule_with: RuleWith) -> None:
        rules = rule_with("words: [lawyer]")
        assert fires(rules, "I think I should get a lawyer.")
        assert fires(rules, "He told me to go away, so I got a lawyer.")
        assert fires(rules, "He keeps saying my lawyer can't help me.")

    def test_count_keeps_negated_mentions(self, rule_with: RuleWith) -> None:
        rules = rule_with("words: [hurt myself]\nwhen_negated: count")
        assert fires(rules, "I don't want to hurt myself")
        assert fires(rules, "I want to hurt myself")
        assert matched(rules, "I don't want to hurt myself") == ["hurt myself (negated)"]

    def test_only_keeps_just_the_negated_mentions(self, rule_with: RuleWith) -> None:
        rules = rule_with("words: [lawyer]\nwhen_negated: only")
        assert fires(rules, "I am not going to a lawyer")
        assert not fires(rules, "I am going to a lawyer")

    def test_a_term_that_contains_a_negation_matches_it(self, rule_with: RuleWith) -> None:
        rules = rule_with("words: [not coping]")
        assert fires(rules, "I am not coping at all")
        assert not fires(rules, "I am coping")


class TestRegex:
    def test_case_insensitive_with_matched_text(self, rule_with: RuleWith) -> None:
        rules = rule_with(r"regex: '\bcase\s+no\.?\s*\d+'")
        assert matched(rules, "See Case No. 42 for details") == ["case no. 42"]
        assert not fires(rules, "a suitcase 42")

    def test_negation_applies_to_regex_matches(self, rule_with: RuleWith) -> None:
        rules = rule_with(r"regex: 'lawyers?'")
        assert fires(rules, "My lawyers called.")
        assert not fires(rules, "I don't have lawyers.")

    def test_a_match_starting_inside_a_word(self, rule_with: RuleWith) -> None:
        counted = rule_with("regex: 't\\b'\nwhen_negated: count")
        assert fires(counted, "I don't")
        assert fires(counted, "I don’t know what he meant by it")
        ignored = rule_with(r"regex: 't\b'")
        assert not fires(ignored, "I don't")  # the match sits in the scope of "don't"
        assert fires(ignored, "That")

    def test_any_of_several_expressions(self, rule_with: RuleWith) -> None:
        rules = rule_with(r"regex: ['\bEEOC\b', 'tribunal\s+claim']")
        assert fires(rules, "I filed with the eeoc")
        assert fires(rules, "a tribunal  claim")
        assert not fires(rules, "the tribunal scene")


class TestFields:
    def test_list_field_any_of(self, rule_with: RuleWith) -> None:
        rules = rule_with("field: involved\nin: [my manager, senior manager]")
        assert fires(rules, involved=["a peer", "senior manager"])
        assert matched(rules, involved=["my manager"]) == ["involved: my manager"]
        assert not fires(rules, involved=["a peer"])
        assert not fires(rules)

    def test_boolean_field(self, rule_with: RuleWith) -> None:
        yes = rule_with("field: raised_before\nequals: true")
        no = rule_with("field: raised_before\nequals: false")
        assert fires(yes, raised_before=True) and not fires(yes, raised_before=False)
        assert fires(no, raised_before=False) and not fires(no, raised_before=True)
        assert not fires(yes) and not fires(no)  # unknown is neither

    def test_scalar_fields_ignore_case(self, rule_with: RuleWith) -> None:
        rules = rule_with("field: duration\nin: [months, years]")
        assert fires(rules, duration="Years")
        assert not fires(rules, duration="weeks")

    def test_category(self, rule_with: RuleWith) -> None:
        rules = rule_with("field: category\nequals: retaliation")
        assert fires(rules, category="retaliation")
        assert not fires(rules, category="workload")


class TestComposition:
    def test_all(self, rule_with: RuleWith) -> None:
        rules = rule_with(
            """
            all:
              - field: raised_before
                equals: true
              - words: [nothing changed]
            """
        )
        assert fires(rules, "I told HR and nothing changed.", raised_before=True)
        assert not fires(rules, "I told HR and nothing changed.", raised_before=False)
        assert not fires(rules, "I told HR.", raised_before=True)
        assert matched(rules, "nothing changed", raised_before=True) == [
            "raised_before: true",
            "nothing changed",
        ]

    def test_any_reports_every_part_that_held(self, rule_with: RuleWith) -> None:
        rules = rule_with(
            """
            any:
              - words: [lawyer]
              - field: involved
                in: [my manager]
            """
        )
        assert fires(rules, "a lawyer")
        assert fires(rules, "nothing", involved=["my manager"])
        assert not fires(rules, "nothing", involved=["a peer"])
        assert matched(rules, "a lawyer", involved=["my manager"]) == [
            "lawyer",
            "involved: my manager",
        ]

    def test_not(self, rule_with: RuleWith) -> None:
        rules = rule_with(
            """
            all:
              - words: [knife]
              - not:
                  words: [cake, kitchen]
            """
        )
        assert fires(rules, "He had a knife.")
        assert not fires(rules, "Bring a knife for the cake.")
        assert not fires(rules, "No knife here.")

    def test_nested(self, rule_with: RuleWith) -> None:
        rules = rule_with(
            """
            any:
              - all:
                  - words: [pregnant]
                  - any:
                      - words: [left out]
                      - words: [demoted]
              - field: category
                equals: discrimination
            """
        )
        assert fires(rules, "Since I said I was pregnant I was demoted.")
        assert not fires(rules, "I'm pregnant.")
        assert fires(rules, "I'm pregnant.", category="discrimination")


def test_deprecated_rules_are_not_evaluated(rule_with: RuleWith) -> None:
    rules = rule_with("words: [lawyer]", status="deprecated")
    assert not fires(rules, "a lawyer")
    assert len(rules.rules) == 1


def test_hits_carry_the_rule_metadata(rule_with: RuleWith) -> None:
    rules = rule_with("words: [lawyer]", weight=1.25)
    (hit,) = rules.evaluate(facts("a lawyer"))
    assert (hit.rule_id, hit.title, hit.weight, hit.min_level, hit.matched, hit.tags) == (
        "test-001",
        "A test rule",
        1.25,
        None,
        ["lawyer"],
        (),
    )
