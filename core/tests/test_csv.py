from decimal import Decimal

import pytest

from core.csv import CsvRowWriter, cell, neutralise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ada = great", "Ada = great"),
        ("Zoë", "Zoë"),
        ("", ""),
    ],
)
def test_user_text_that_a_spreadsheet_would_evaluate_is_prefixed(text, expected):
    assert neutralise(text) == expected


def test_computed_values_are_not_prefixed():
    assert cell(Decimal("-1.50")) == "-1.50"
    assert cell(-3) == -3
    assert cell(True) == "yes"
    assert cell(False) == "no"
    assert cell(None) == ""


def test_row_writer_quotes_and_escapes():
    line = CsvRowWriter().row(["=1+1", 'say "hi", ok', 3, Decimal("0.10")])
    assert line == '\'=1+1,"say ""hi"", ok",3,0.10\r\n'


def test_rows_gives_many_lines_as_one_string_and_escapes_each():
    writer = CsvRowWriter()
    assert writer.rows([["=a", 1], ["b", Decimal("2.50")]]) == "'=a,1\r\nb,2.50\r\n"
    # The writer keeps nothing between calls.
    assert writer.row(["c"]) == "c\r\n"


def test_subclasses_of_str_are_user_text_too():
    from django.db import models

    class Kind(models.TextChoices):
        EVIL = "=1+1", "Evil"

    assert cell(Kind.EVIL) == "'=1+1"
