"""The scrubber: each kind of personal data, what must survive, counts, spans, speed."""

from __future__ import annotations

import time

import pytest

from service.privacy.directory import StaffName
from service.privacy.scrub import DEFAULT_STAFF_ID_PATTERNS, Scrubber, ScrubResult
from service.privacy.wordlists import NAME_WORDS

STAFF = [
    "Priya Sharma",
    "John Smith",
    "Will Jones",
    "Grace Okafor",
    "Mark Hope",
    "Bill Evans",
    "May Thompson",
    "Hope Adeyemi",
    "Ngozi Okonkwo-Adeyemi",
    "Mary Jane Watson",
    "Kemi",
]


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber(STAFF)


def scrubbed(scrubber: Scrubber, text: str) -> str:
    return scrubber.scrub(text).text


# --- emails, phones, URLs, staff IDs ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jo.bloggs@example.com today", "write to [email] today"),
        ("JO+work@Mail.Example.co.uk.", "[email]."),
        ("(o'neil@firm.org)", "([email])"),
        ("a_b-c@sub-domain.example.io, thanks", "[email], thanks"),
    ],
)
def test_emails_are_replaced(scrubber: Scrubber, text: str, expected: str) -> None:
    assert scrubbed(scrubber, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call 07700 900123 now", "call [phone] now"),
        ("call 07700900123.", "call [phone]."),
        ("ring +44 20 7946 0958", "ring [phone]"),
        ("ring +44 (0)20 7946 0958!", "ring [phone]!"),
        ("ring 0044 20 7946 0958", "ring [phone]"),
        ("US (555) 123-4567 or", "US [phone] or"),
        ("US 555-123-4567 or", "US [phone] or"),
        ("US 555.123.4567 or", "US [phone] or"),
        ("desk 020 7946 0958", "desk [phone]"),
        ("+1 212-555-0100", "[phone]"),
        ("local 555-0123 only", "local [phone] only"),
        ("two: 07700 900123 07700 900456", "two: [phone]"),
        ("room 1 555.123.4567", "room 1 [phone]"),  # a short figure first does not hide it
    ],
)
def test_phone_numbers_are_replaced(scrubber: Scrubber, text: str, expected: str) -> None:
    assert scrubbed(scrubber, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://intranet.example.com/hr?id=3.", "see [url]."),
        ("see http://example.org/a_(b)", "see [url]"),
        ("(see https://example.com/x)", "(see [url])"),
        ("at www.example.net/profile, then", "at [url], then"),
        ("my page bit.ly/abc123 and example.co.uk", "my page [url] and [url]"),
        ("ftp://files.example.com/me.zip", "[url]"),
    ],
)
def test_urls_are_replaced(scrubber: Scrubber, text: str, expected: str) -> None:
    assert scrubbed(scrubber, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my number is EMP-123456.", "my number is [staff id]."),
        ("emp_1234 and E12345678", "[staff id] and [staff id]"),
        ("badge ID 98765", "badge [staff id]"),
        ("id:1234", "id:1234"),  # not the default shape
        ("valid 12345", "valid 12345"),  # "id" inside a word is not an ID prefix
    ],
)
def test_staff_ids_are_replaced(scrubber: Scrubber, text: str, expected: str) -> None:
    assert scrubbed(scrubber, text) == expected


def test_staff_id_patterns_are_configurable() -> None:
    custom = Scrubber(staff_id_patterns=[r"\bSTF\d{3}\b", r"\b[A-Z]{2}\d{6}[A-D]\b"])
    assert custom.scrub("badge stf123, NI AB123456C, E 123456").text == (
        "badge [staff id], NI [staff id], E 123456"
    )
    assert Scrubber(staff_id_patterns=[]).scrub("E 123456").text == "E 123456"
    assert DEFAULT_STAFF_ID_PATTERNS == (r"\b(?:EMP|E|ID)[-_ ]?\d{4,8}\b",)


def test_a_bad_staff_id_pattern_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="pattern 2"):
        Scrubber(staff_id_patterns=[r"\d+", r"(unclosed"])
    with pytest.raises(TypeError):
        Scrubber(staff_id_patterns=r"\d+")


def test_overlapping_finds_merge_so_nothing_is_left_half_redacted(scrubber: Scrubber) -> None:
    # The staff ID pattern takes "ID 07700", the phone pattern "07700 900123".
    assert scrubbed(scrubber, "ID 07700 900123") in ("[staff id]", "[phone]")
    assert scrubbed(scrubber, "see https://x.example.com/?u=jo@example.com") == "see [url]"


@pytest.mark.parametrize(
    "text",
    [
        "On 2024-03-12 14:00 we met, and again on 12/03/2024 at 10.30.",
        "It was 12.03.24 at 9:15; 3 of us; £1,500 paid in 2023; 45% of staff.",
        "Rooms 101 and 2.14, version 1.2.3, between 10-15 people, 1,234,567 pounds.",
        "From 2019-2023 I worked 12 hour shifts, 3-4 times a week.",
    ],
)
def test_dates_times_and_figures_are_not_phone_numbers(scrubber: Scrubber, text: str) -> None:
    assert scrubbed(scrubber, text) == text


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Priya Sharma shouted.", "[name] shouted."),
        ("then priya sharma shouted", "then [name] shouted"),  # full names: any case
        ("PRIYA SHARMA shouted", "[name] shouted"),
        ("Mary Watson and Mary Jane Watson", "[name] and [name]"),  # first + last, no middle
        ("Priya's desk", "[name]'s desk"),
        ("I told Okonkwo-Adeyemi and Kemi.", "I told [name] and [name]."),
        ("J. Smith signed it.", "[name] signed it."),
        ("John Smith from accounts", "[name] from accounts"),
        ("Ade Smith from accounts", "[name] from accounts"),  # Smith known, Ade joins it
        ("John Doe from accounts", "[name] from accounts"),  # John known, Doe joins it
        ("then Ngozi Adeyemi left", "then [name] left"),
        ("Emily Smith came.", "[name] came."),  # unknown first name before a known surname
        ("Apparently Smith said. Young Smith said.", "Apparently [name] said. Young [name] said."),
        ("I told Grace Smith", "I told [name]"),
    ],
)
def test_directory_names_are_replaced(scrubber: Scrubber, text: str, expected: str) -> None:
    assert scrubbed(scrubber, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my manager John told me", "my manager [name] told me"),
        ("my manager John Miller emails", "my manager [name] emails"),
        ("Mrs Patel and Dr. Okafor", "Mrs [name] and Dr. [name]"),
        ("mrs patel saw", "mrs [name] saw"),
        ("Dr Chidi Eze saw", "Dr [name] saw"),
        ("a colleague called Sam laughed", "a colleague called [name] laughed"),
        ("someone named Tariq", "someone named [name]"),
        ("her name is Ola.", "her name is [name]."),
        ("my line manager, Dev, refused", "my line manager, [name], refused"),
        ("My Supervisor Tom said", "My Supervisor [name] said"),
    ],
)
def test_names_next_to_cue_words_are_replaced(text: str, expected: str, scrubber: Scrubber) -> None:
    assert scrubbed(scrubber, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The meeting on Monday was awful. Yesterday HR said no.",
        "I asked the Manager before Christmas, and in May and June nothing changed.",
        "Our Team Leader and the Head of Finance were there. I was upset.",
        "Apparently the CEO knew. Then the Director of Operations left.",
        "The doctor will see you. Dr. will see you.",
        "Management called a meeting. The policy named in the report.",
        "my manager Monday morning, my boss I think, the manager HR",
        "Teams and Slack and Excel crashed in London on Easter Sunday.",
    ],
)
def test_ordinary_capitalised_words_survive(scrubber: Scrubber, text: str) -> None:
    assert scrubbed(scrubber, text) == text


# Staff called Will, Grace, Mark, Bill, May and Hope are in STAFF.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Capitalised mid-sentence: a name.
        ("I spoke to Grace about it", "I spoke to [name] about it"),
        ("then Will and Mark left", "then [name] and [name] left"),
        # Lower case: an ordinary word.
        ("I will mark it and hope the bill is paid", "I will mark it and hope the bill is paid"),
        ("by the grace of god", "by the grace of god"),
        # Sentence start: an ordinary word, unless a reporting verb follows.
        ("Will you help? Mark the date. Bill me.", "Will you help? Mark the date. Bill me."),
        ("Hope is lost. Grace under fire.", "Hope is lost. Grace under fire."),
        ("Grace said no. Will was rude.", "[name] said no. [name] was rude."),
        ("Mark's desk.", "[name]'s desk."),
        # Next to a cue word.
        ("my manager Will", "my manager [name]"),
        # A month that is also a staff name: only with a cue or a reporting verb.
        ("In May we met.", "In May we met."),
        ("my colleague May shouted. May said so.", "my colleague [name] shouted. [name] said so."),
        # Full names still match at a sentence start.
        ("Will Jones came. Mark Hope too.", "[name] came. [name] too."),
    ],
)
def test_first_names_that_are_words(scrubber: Scrubber, text: str, expected: str) -> None:
    assert scrubbed(scrubber, text) == expected


def test_spreading_to_neighbouring_capitalised_words_stops_after_two(scrubber: Scrubber) -> None:
    # Ordinary words, so only their place next to a name makes them look like one.
    text = "I met Red Blue Green Priya Brick Glass Iron today."
    assert scrubbed(scrubber, text) == "I met Red [name] Iron today."


def test_a_name_made_only_of_ordinary_words_needs_a_capital() -> None:
    scrubber = Scrubber(["Mark Young"])
    assert scrubber.scrub("we mark young people's work").text == "we mark young people's work"
    assert scrubber.scrub("Mark Young said").text == "[name] said"


def test_common_words_can_be_added_for_a_directory() -> None:
    # "Bridge" is not in the built-in list of ordinary words, so by default it is a distinct
    # name, redacted in any case; listing it applies the rule for names that are words.
    assert "bridge" not in NAME_WORDS
    text = "Bridge closed at noon. I spoke to Bridge. the bridge is open"
    default = Scrubber(["Ann Bridge"])
    assert (
        default.scrub(text).text == "[name] closed at noon. I spoke to [name]. the [name] is open"
    )
    careful = Scrubber(["Ann Bridge"], common_words=["Bridge"])
    assert (
        careful.scrub(text).text == "Bridge closed at noon. I spoke to [name]. the bridge is open"
    )


def test_staff_names_can_come_from_the_directory_import() -> None:
    names = [StaffName("Priya", "Sharma"), StaffName("Kemi")]
    scrubber = Scrubber(name.full_name for name in names)
    assert scrubber.scrub("Priya Sharma and Kemi").text == "[name] and [name]"


def test_without_a_directory_cued_and_rare_names_go() -> None:
    scrubber = Scrubber()
    # Since the lexicon: a name rare as a word goes without a cue; a capitalised word does not.
    assert scrubber.scrub("Priya shouted at Mrs Patel").text == "[name] shouted at Mrs [name]"
    assert scrubber.scrub("Grace under pressure, said Hope.").text == (
        "Grace under pressure, said [name]."
    )


# --- result shape ------------------------------------------------------------------------


def test_counts_and_spans_match_the_markers(scrubber: Scrubber) -> None:
    text = (
        "Priya Sharma (priya@example.com, 07700 900123) said my manager John wrote "
        "EMP-12345 on https://example.com/x and rang 555-123-4567."
    )
    result = scrubber.scrub(text)
    assert result.text == (
        "[name] ([email], [phone]) said my manager [name] wrote "
        "[staff id] on [url] and rang [phone]."
    )
    assert result.counts == {"name": 2, "email": 1, "phone": 2, "staff id": 1, "url": 1}
    assert [kind for _, _, kind in result.spans] == [
        "name",
        "email",
        "phone",
        "name",
        "staff id",
        "url",
        "phone",
    ]
    for start, end, kind in result.spans:
        assert result.text[start:end] == f"[{kind}]"
    assert "priya" not in result.text.lower()


def test_clean_text_is_unchanged_with_no_counts(scrubber: Scrubber) -> None:
    text = "My manager keeps shouting at me in meetings.\n\nIt started in March."
    assert scrubber.scrub(text) == ScrubResult(text=text, counts={}, spans=[])
    assert scrubber.scrub("") == ScrubResult(text="", counts={}, spans=[])


def test_result_is_frozen(scrubber: Scrubber) -> None:
    result = scrubber.scrub("x")
    with pytest.raises(AttributeError):
        result.text = "y"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "Priya Sharma (priya@example.com, 07700 900123) said my manager John wrote EMP-12345.",
        "Mrs Patel. Will said. Grace's notes at www.example.com/grace. J. Smith.",
        "Already [name] and [email] and [staff id] and [phone] and [url] here.",
        "Dr. Okafor, Dr. [name], named [name] Smith, [name]. Will said",
        "EMP-12345Priya and Priya'EMP-12345 and Priya+447700900123",  # glued to a find
    ],
)
def test_scrubbing_is_idempotent(scrubber: Scrubber, text: str) -> None:
    once = scrubber.scrub(text)
    assert scrubber.scrub(once.text) == once


def test_markers_already_in_the_text_survive_and_are_counted(scrubber: Scrubber) -> None:
    result = scrubber.scrub("Already [name] and [staff id] here.")
    assert result.text == "Already [name] and [staff id] here."
    assert result.counts == {"name": 1, "staff id": 1}


# --- speed -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a@" * 2500,
        "@" + "a" * 4999,
        "a" * 4999 + "@",
        "1" * 5000,
        "1 " * 2500,
        "1." * 2500,
        "a." * 2500,
        "(1) " * 1250,
        "www." * 1250,
        "Priya " * 833,
        "PriyaEMP-12345" * 350,
        "Mr " * 1666,
        "+1 " * 1666,
        "http://" + "a/" * 2496,
        "Aaa " * 1248 + "Priya",  # a long run of capitalised words before a name
    ],
)
def test_hostile_input_cannot_make_scrubbing_slow(scrubber: Scrubber, text: str) -> None:
    # Guards against catastrophic regex backtracking, which takes seconds to hours; each of
    # these takes 0.2-7 ms, so the bound is far from any machine's noise.
    started = time.perf_counter()
    scrubber.scrub(text)
    assert time.perf_counter() - started < 1.0
