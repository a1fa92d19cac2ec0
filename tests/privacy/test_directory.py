"""Staff directory CSV import."""

from __future__ import annotations

import io

import pytest

from service.privacy.directory import DirectoryImportError, StaffName, parse_staff_csv


def parse(text: str) -> list[StaffName]:
    return parse_staff_csv(io.StringIO(text))


def test_a_full_name_column() -> None:
    assert parse("name\nPriya Sharma\nKemi\nMary Jane Watson\n") == [
        StaffName("Priya", "Sharma"),
        StaffName("Kemi", None),
        StaffName("Mary Jane", "Watson"),
    ]


@pytest.mark.parametrize("header", ["Full_Name", "FULL NAME", " full_name ", "Name"])
def test_full_name_headers_are_case_insensitive(header: str) -> None:
    assert parse(f"{header}\nPriya Sharma\n") == [StaffName("Priya", "Sharma")]


@pytest.mark.parametrize(
    "header",
    ["first_name,last_name", "First Name,Last Name", "FIRSTNAME,SURNAME", "forename,surname"],
)
def test_first_and_last_name_columns(header: str) -> None:
    assert parse(f"{header}\nPriya,Sharma\nKemi,\n") == [
        StaffName("Priya", "Sharma"),
        StaffName("Kemi", None),
    ]


def test_other_columns_are_ignored_and_order_does_not_matter() -> None:
    text = "employee_id,Email,Surname,Department,First_Name\n17,x@example.com,Okafor,HR,Grace\n"
    assert parse(text) == [StaffName("Grace", "Okafor")]


def test_first_and_last_are_preferred_over_a_display_name() -> None:
    text = "display_name,first_name,last_name\nDr G. Okafor,Grace,Okafor\n"
    assert parse(text) == [StaffName("Grace", "Okafor")]


def test_cells_are_trimmed_and_blank_rows_skipped() -> None:
    text = "first_name , last_name\n  Priya  ,  Sharma \n\n , \n  Mary   Jane , Watson\n"
    assert parse(text) == [StaffName("Priya", "Sharma"), StaffName("Mary Jane", "Watson")]


def test_quoted_cells_and_unicode() -> None:
    text = 'name,team\n"Siobhán Ó Briain","Ops, North"\n"Zoë Müller-Lüdenscheidt",HR\n'
    assert parse(text) == [
        StaffName("Siobhán Ó", "Briain"),
        StaffName("Zoë", "Müller-Lüdenscheidt"),
    ]


def test_full_name_property() -> None:
    assert StaffName("Mary Jane", "Watson").full_name == "Mary Jane Watson"
    assert StaffName("Kemi").full_name == "Kemi"


def test_an_empty_file_is_an_error() -> None:
    with pytest.raises(DirectoryImportError, match="empty"):
        parse("")


def test_a_header_without_a_name_column_is_an_error() -> None:
    with pytest.raises(DirectoryImportError, match="line 1: no name column") as caught:
        parse("email,department\nx@example.com,HR\n")
    assert caught.value.line == 1


def test_a_blank_name_in_a_filled_row_names_its_line() -> None:
    with pytest.raises(DirectoryImportError, match="line 3: the first name is blank") as caught:
        parse("first_name,last_name,email\nPriya,Sharma,p@example.com\n,Okafor,g@example.com\n")
    assert caught.value.line == 3
    assert "Okafor" not in str(caught.value)  # never repeat the row's values


def test_a_name_without_letters_names_its_line() -> None:
    with pytest.raises(DirectoryImportError, match="line 4: the name has no letters"):
        parse("name,email\nPriya Sharma,a@example.com\n\n12345,b@example.com\n")


def test_a_blank_full_name_in_a_filled_row_names_its_line() -> None:
    with pytest.raises(DirectoryImportError, match="line 2: the name is blank"):
        parse("name,email\n  ,b@example.com\n")


def test_line_numbers_count_multi_line_quoted_cells() -> None:
    text = 'name,notes\nPriya Sharma,"two\nlines"\n,filled\n'
    with pytest.raises(DirectoryImportError, match="line 4"):
        parse(text)


def test_a_broken_csv_is_reported_as_unreadable_with_its_line() -> None:
    huge = "x" * 200_000  # over the csv module's field size limit
    with pytest.raises(DirectoryImportError, match="line 3: unreadable CSV"):
        parse(f"name\nPriya Sharma\n{huge}\n")
