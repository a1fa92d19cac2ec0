"""Each phone, id and date format the scrubber recognises, at its shortest and its longest,
and one character shorter or longer: inside the format it is replaced by its marker, outside
it is left as typed (or, where a longer form is another kind's, replaced as that kind)."""

from __future__ import annotations

import pytest

from service.privacy.identifiers import identifier_spans
from service.privacy.scrub import Scrubber


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber(["Priya Sharma"])


def case(token: str, expected: str | None, why: str):  # type: ignore[no-untyped-def]
    """`expected`: the marker's kind that replaces the whole token, or None: left as typed."""
    return pytest.param(token, expected, id=f"{why}:{token}")


PHONE = "phone"
STAFF = "staff id"
ID = "id number"
BIRTH = "birth date"
HANDLE = "handle"

SCRUBBED_FORMATS = [
    # national numbers: at least nine digits, no upper bound
    case("020794609", PHONE, "national-shortest"),
    case("02079460", None, "national-one-shorter"),
    case("020 7946 0958", PHONE, "national-grouped"),
    case("4111 1111 1111 1111 1111", PHONE, "national-long-no-upper-bound"),
    # international (+ or 00): at least eight digits
    case("+44207946", PHONE, "plus-shortest"),
    case("+4420794", None, "plus-one-shorter"),
    case("+44 (0)20 7946 0958", PHONE, "plus-with-brackets"),
    case("00442079", PHONE, "double-zero-shortest"),
    case("0044207", None, "double-zero-one-shorter"),
    # seven-digit local numbers only as 3-4
    case("555-1234", PHONE, "local-exact"),
    case("55-1234", None, "local-one-shorter"),
    case("5555-1234", None, "local-one-longer"),
    case("555.123.4567", PHONE, "dotted"),
    # staff ids: EMP, E or ID and four to eight digits
    case("EMP1234", STAFF, "staff-shortest"),
    case("EMP123", None, "staff-one-shorter"),
    case("E-12345678", STAFF, "staff-longest"),
    case("E-123456789", ID, "staff-one-longer-is-a-letter-code"),
    case("ID 4821", STAFF, "staff-with-space"),
]


@pytest.mark.parametrize(("token", "expected"), SCRUBBED_FORMATS)
def test_scrubber_formats_at_their_edges(scrubber, token, expected):
    result = scrubber.scrub(f"You can reach me on {token} after work.")
    if expected is None:
        assert result.text == f"You can reach me on {token} after work.", result.text
        assert result.counts == {}
    else:
        assert result.text == f"You can reach me on [{expected}] after work.", result.text
        assert result.counts == {expected: 1}


IDENTIFIER_FORMATS = [
    # letter-prefixed codes: one to four letters, four to ten digits, never a year
    case("B-4482", ID, "code-shortest"),
    case("B-448", None, "code-one-shorter"),
    case("ABCD-4482123456", ID, "code-longest"),
    case("ABCDE-4482", None, "code-five-letters"),
    case("FY2024", None, "code-a-year-is-not-one"),
    # fixed formats: exactly as long as they are, not a digit less
    case("QQ 12 34 56 C", ID, "uk-ni"),
    case("QQ 12 34 5 C", None, "uk-ni-one-shorter"),
    case("078-05-1120", ID, "us-ssn"),
    case("078-05-112", None, "us-ssn-one-shorter"),
    case("12345678Z", ID, "es-dni"),
    case("1234567Z", None, "es-dni-one-shorter"),
    case("X-1234567-L", ID, "es-nie"),
    case("RSSMRA85T10A562S", ID, "it-codice-fiscale"),
    # handles: @ and one to thirty characters
    case("@a", HANDLE, "handle-shortest"),
    case("@" + "a" * 30, HANDLE, "handle-longest"),
    # full dates in a birth-year range, 1930 to 2009
    case("1.2.1930", BIRTH, "date-shortest-first-year"),
    case("1.2.1929", None, "date-year-before-the-range"),
    case("31.12.2009", BIRTH, "date-longest-last-year"),
    case("31.12.2010", None, "date-year-after-the-range"),
    case("1985-03-12", BIRTH, "iso-date"),
    case("3 March 1985", BIRTH, "written-date"),
    case("March 3, 1985", BIRTH, "us-written-date"),
]


def kinds_covering(text: str, token: str) -> set[str]:
    start = text.index(token)
    end = start + len(token)
    return {kind for s, e, kind in identifier_spans(text) if s <= start and e >= end}


@pytest.mark.parametrize(("token", "expected"), IDENTIFIER_FORMATS)
def test_identifier_formats_at_their_edges(token, expected):
    text = f"It was {token} as far as I remember."
    found = kinds_covering(text, token)
    if expected is None:
        assert found == set(), found
    else:
        assert found == {expected}, found


@pytest.mark.parametrize(
    ("text", "token", "expected"),
    [
        ("my handle is @" + "a" * 31 + " there", "@" + "a" * 31, set()),  # one longer: cut
        ("he was born 1/2/85 I think", "1/2/85", {BIRTH}),  # after a cue, a two-digit year
        ("he was born 1/2/8 I think", "1/2/8", set()),  # a one-digit year is no date
        ("he was born 12/12/1985 I think", "12/12/1985", {BIRTH}),
    ],
)
def test_cued_and_overlong_forms(text, token, expected):
    assert kinds_covering(text, token) == expected
