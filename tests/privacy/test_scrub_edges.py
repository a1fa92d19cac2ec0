"""The scrubber at the edges of its rules: hyphenated and apostrophe directory names, full
names made of words English capitalises, initials, given names at a sentence start, brackets
after a URL, the shortest phone numbers, and finds glued to markers already in the text.
Each case states the text a reporter types and exactly the text that is stored."""

from __future__ import annotations

import pytest

from service.privacy import lexicon
from service.privacy.scrub import Scrubber


@pytest.fixture(scope="module")
def no_directory() -> Scrubber:
    return Scrubber()


def scrubbed(staff: list[str], text: str, language: str = "en") -> str:
    return Scrubber(staff).scrub(text, language).text


# --- directory names --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("staff", "text", "expected"),
    [
        # Each part of a hyphenated surname is a name on its own, in any case.
        (["Ngozi Okonkwo-Adeyemi"], "then okonkwo left", "then [name] left"),
        (["Ngozi Okonkwo-Adeyemi"], "then adeyemi left", "then [name] left"),
        # Two letters are enough for a part ("Jo" of "Jo-Ann").
        (["Jo-Ann Baker"], "then jo left", "then [name] left"),
        (["Jo-Ann Baker"], "then ann left", "then [name] left"),
    ],
)
def test_each_part_of_a_hyphenated_name_is_redacted(
    staff: list[str], text: str, expected: str
) -> None:
    assert scrubbed(staff, text) == expected


@pytest.mark.parametrize(
    ("staff", "text", "language", "expected"),
    [
        # A part that is an ordinary word keeps the rule for names that are words.
        (["Ann Hope-Smith"], "I hope so.", "en", "I hope so."),
        (["Ann Hope-Smith"], "I told Hope.", "en", "I told [name]."),
        # A one-letter part is no name on its own.
        (["Ola B-Okafor"], "we went to plan b.", "en", "we went to plan b."),
        # An apostrophe name answers in full, not to the word after the apostrophe.
        (["Lou Dell'Acqua"], "acqua fredda", "it", "acqua fredda"),
        (["Lou Dell'Acqua"], "Dell'Acqua urlava", "it", "[name] urlava"),
    ],
)
def test_parts_of_a_directory_name_do_not_redact_ordinary_words(
    staff: list[str], text: str, language: str, expected: str
) -> None:
    assert scrubbed(staff, text, language) == expected


@pytest.mark.parametrize(
    ("staff", "text", "expected"),
    [
        # "April" alone is a month; written out with the surname it is part of the name.
        (["April Rose"], "I saw April Rose today.", "I saw [name] today."),
        (["April Rose"], "In April we met.", "In April we met."),
        # First + last also matches when the directory holds a middle name.
        (["April Grace Rose"], "I saw April Rose today.", "I saw [name] today."),
        (["April Grace Rose"], "I saw April Grace Rose today.", "I saw [name] today."),
        # The longest name written out wins over a shorter one it starts with.
        (["April Rose", "April Rose May"], "I saw April Rose May today.", "I saw [name] today."),
    ],
)
def test_a_full_name_takes_words_english_always_capitalises(
    staff: list[str], text: str, expected: str
) -> None:
    assert scrubbed(staff, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Sentence start, the text's last words: the verb still makes the word a person.
        ("Grace said.", "[name] said."),
        ("May said.", "[name] said."),
        ("Grace under pressure.", "Grace under pressure."),
    ],
)
def test_a_reporting_verb_ending_the_text_marks_a_directory_word(text: str, expected: str) -> None:
    assert scrubbed(["Grace Okafor", "May Thompson"], text) == expected


# --- names found without a directory ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("signed by J. Cook today", "signed by [name] today"),  # an initial and a surname
        ("it was a Big deal", "it was a Big deal"),  # "a" has no full stop: no initial
    ],
)
def test_an_initial_makes_the_capitalised_word_after_it_a_surname(
    no_directory: Scrubber, text: str, expected: str
) -> None:
    assert no_directory.scrub(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A reporting verb after a given name at a sentence start: a person.
        ("John said.", "[name] said."),
        ("John said no.", "[name] said no."),
        # "Per" and "Max" are given names too; without a name or verb after them, words.
        ("Per week, we get 40 hours.", "Per week, we get 40 hours."),
        ("Per German law, breaks are unpaid.", "Per German law, breaks are unpaid."),
        ("Max: 48 hours a week.", "Max: 48 hours a week."),
    ],
)
def test_a_given_name_at_a_sentence_start_needs_a_name_or_verb_after_it(
    no_directory: Scrubber, text: str, expected: str
) -> None:
    assert no_directory.scrub(text).text == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # A reporter signing off with their own name: alone on its line, or at the end.
        ("Thanks,\nJohn", "en", "Thanks,\n[name]"),
        ("Thanks,\nJohn\n", "en", "Thanks,\n[name]\n"),
        ("Cheers,\nDave", "en", "Cheers,\n[name]"),
        ("Regards,\nAnna.", "en", "Regards,\n[name]."),
        ("Kind regards,\nAnna Nowak", "en", "Kind regards,\n[name]"),
        (
            "It keeps happening.\nJohn\nnights team",
            "en",
            "It keeps happening.\n[name]\nnights team",
        ),
        ("Danke,\nJürgen", "de", "Danke,\n[name]"),
        ("Merci,\nAmélie", "fr", "Merci,\n[name]"),
        ("Gracias,\nLucía", "es", "Gracias,\n[name]"),
        ("Dank je,\nSanne", "nl", "Dank je,\n[name]"),
        ("Dziękuję,\nAgnieszka", "pl", "Dziękuję,\n[name]"),
        ("Grazie,\nGiulia", "it", "Grazie,\n[name]"),
        ("Obrigado,\nJoão", "pt", "Obrigado,\n[name]"),
        # A name spoken to, before a comma.
        ("John, please stop.", "en", "[name], please stop."),
        # Greetings, sign-off words and workplace words alone on a line stay.
        ("Hi,\nI work nights.", "en", "Hi,\nI work nights."),
        ("Sorry,\nno more", "en", "Sorry,\nno more"),
        ("Regards,\nHR", "en", "Regards,\nHR"),
        ("Hallo,\nich bin neu.", "de", "Hallo,\nich bin neu."),
        ("Monday, again.", "en", "Monday, again."),
        ("May, June and July were hard.", "en", "May, June and July were hard."),
        # Not alone: a given name followed by an ordinary word at a sentence start stays.
        ("Anna left early.", "en", "Anna left early."),
    ],
)
def test_a_given_name_alone_at_a_sentence_start_signs_off_or_is_spoken_to(
    no_directory: Scrubber, text: str, language: str, expected: str
) -> None:
    assert no_directory.scrub(text, language).text == expected


@pytest.mark.parametrize("word", ["rota", "rotas", "roster", "shift"])
def test_shift_planning_words_are_not_names(no_directory: Scrubber, word: str) -> None:
    """ "Rota" is also a given name, and rare in the English lexicon; in a report it is the
    shift plan."""
    text = f"Will, the {word} changed again."
    assert no_directory.scrub(text).text == text


# --- URLs, phone numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A ')' closing the reporter's own bracket stays, whatever brackets come later.
        ("(see http://example.com/x) and (more)", "(see [url]) and (more)"),
        # A ')' the URL opened goes with it, whatever brackets came before or after.
        ("(a) see http://example.org/a_(b)", "(a) see [url]"),
        ("see http://example.org/a_(b) (c)", "see [url] (c)"),
    ],
)
def test_brackets_around_a_url_count_only_inside_the_url(
    no_directory: Scrubber, text: str, expected: str
) -> None:
    assert no_directory.scrub(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Eight digits with a country code, bracketed or not, are a number.
        ("ring (+500) 12345", "ring [phone]"),
        ("ring +500 12345", "ring [phone]"),
        # Seven digits are a number only in the US local shape 555-0123.
        ("ring 555-0123", "ring [phone]"),
        ("a bonus of 1 250 000 and 1234567", "a bonus of 1 250 000 and 1234567"),
    ],
)
def test_the_shortest_phone_numbers(no_directory: Scrubber, text: str, expected: str) -> None:
    assert no_directory.scrub(text).text == expected


# --- markers already in the text --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Already [name] and jo@example.com", "Already [name] and [email]"),
        ("[email]jo@example.com", "[email][email]"),  # right after a marker
        ("jo@example.com[name]", "[email][name]"),  # right before a marker
    ],
)
def test_finds_next_to_existing_markers_are_still_replaced(
    no_directory: Scrubber, text: str, expected: str
) -> None:
    assert no_directory.scrub(text).text == expected


# --- set-up -------------------------------------------------------------------------------


def test_one_string_of_staff_id_patterns_is_refused_with_the_reason() -> None:
    reason = "^staff_id_patterns must be a sequence of patterns, not one string$"
    with pytest.raises(TypeError, match=reason):
        Scrubber(staff_id_patterns=r"EMP\d+")


def test_warming_loads_each_language_so_a_report_does_not_wait() -> None:
    """Word lists load at app start (lexicon.warm), not in the first reporter's request."""
    lexicon._zipf_table.cache_clear()
    lexicon.warm(("de", "pl"))
    loaded = lexicon._zipf_table.cache_info()
    assert lexicon.zipf("haus", "de") > 0 and lexicon.zipf("dom", "pl") > 0
    after = lexicon._zipf_table.cache_info()
    assert (after.hits - loaded.hits, after.misses - loaded.misses) == (2, 0)
