"""Staff directory CSV import, the edges: the exact messages an uploader sees, a header line
the csv module cannot read, a first-name column on its own, rows shorter than the header, and
last names of several words."""

from __future__ import annotations

import io

import pytest

from service.privacy.directory import DirectoryImportError, StaffName, parse_staff_csv


def parse(text: str) -> list[StaffName]:
    return parse_staff_csv(io.StringIO(text))


def test_an_empty_file_says_so_without_a_line_number() -> None:
    with pytest.raises(DirectoryImportError) as caught:
        parse("")
    assert str(caught.value) == "the file is empty; expected a header row"
    assert caught.value.line is None


def test_a_header_without_a_name_column_lists_the_accepted_headers() -> None:
    with pytest.raises(DirectoryImportError) as caught:
        parse("email,department\nx@example.com,HR\n")
    assert str(caught.value) == (
        "line 1: no name column in the header; expected 'name' or 'full_name', "
        "or 'first_name' with 'last_name'"
    )


def test_an_unreadable_header_line_is_reported_as_line_1() -> None:
    huge = "x" * 200_000  # over the csv module's field size limit
    with pytest.raises(DirectoryImportError) as caught:
        parse(f"{huge}\nPriya Sharma\n")
    assert caught.value.line == 1
    assert str(caught.value).startswith("line 1: unreadable CSV (field larger than field limit")
    assert huge not in str(caught.value)


def test_a_first_name_column_alone_gives_first_names_only() -> None:
    assert parse("first_name,email\nPriya,p@example.com\nKemi,k@example.com\n") == [
        StaffName("Priya", None),
        StaffName("Kemi", None),
    ]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("first_name,last_name\nPriya\nKemi,Adeyemi\n", [("Priya", None), ("Kemi", "Adeyemi")]),
        ("name,email\nPriya Sharma\n", [("Priya", "Sharma")]),
    ],
)
def test_cells_missing_at_the_end_of_a_short_row_count_as_blank(
    text: str, names: list[tuple[str, str | None]]
) -> None:
    assert parse(text) == [StaffName(first, last) for first, last in names]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("last_name,first_name\nSharma\n", "line 2: the first name is blank"),
        ("email,name\nx@example.com\n", "line 2: the name is blank"),
    ],
)
def test_a_short_row_without_its_name_cell_is_a_blank_name(text: str, message: str) -> None:
    with pytest.raises(DirectoryImportError) as caught:
        parse(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("last", "expected"),
    [(" van   der  Berg ", "van der Berg"), ("de\tla Cruz", "de la Cruz"), ("Okafor", "Okafor")],
)
def test_a_last_name_of_several_words_keeps_single_spaces(last: str, expected: str) -> None:
    assert parse(f'first_name,last_name\nAnna,"{last}"\n') == [StaffName("Anna", expected)]
