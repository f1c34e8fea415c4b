"""Reading files as spreadsheets write them, and refusing what is not a table."""

import datetime
import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from imports.readers import FileRefused, _cell_text, open_table
from imports.tests import files

ROWS = [["Full name", "E-mail", "Telephone"], ["Chloé Müller", "chloe@mail.test", "+49 30 1"]]


def read(content: bytes, name="clients.csv"):
    table = open_table(io.BytesIO(content), name=name)
    try:
        return table, list(table.rows)
    finally:
        table.close()


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),  # Excel's "CSV UTF-8"
        ("utf-16", "utf-16"),  # Excel's "Unicode text": a BOM, then UTF-16LE
        ("cp1252", "cp1252"),  # Excel's plain "CSV" on Windows
    ],
)
def test_spreadsheet_encodings_are_read(encoding, expected):
    table, rows = read(files.csv_bytes(ROWS, encoding=encoding))

    assert table.encoding == expected
    assert table.header == ["Full name", "E-mail", "Telephone"]
    assert rows == [(2, ["Chloé Müller", "chloe@mail.test", "+49 30 1"])]


def test_utf16_without_bom_is_read():
    _table, rows = read(files.csv_bytes(ROWS, encoding="utf-16-le", delimiter="\t"))

    assert rows[0][1][0] == "Chloé Müller"


def test_an_accented_name_far_down_decides_the_encoding():
    rows = [["name", "email"]] + [[f"n{i}", f"n{i}@mail.test"] for i in range(30_000)]
    rows.append(["Zoë", "zoe@mail.test"])

    table, read_rows = read(files.csv_bytes(rows, encoding="cp1252"))

    assert table.encoding == "cp1252"
    assert read_rows[-1][1][0] == "Zoë"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected(delimiter):
    table, rows = read(files.csv_bytes(ROWS, delimiter=delimiter))

    assert table.delimiter == delimiter
    assert rows[0][1][2] == "+49 30 1"


def test_a_single_column_file_is_read():
    table, rows = read(b"email\r\na@mail.test\r\n")

    assert table.header == ["email"]
    assert rows == [(2, ["a@mail.test"])]


def test_mixed_line_endings_are_one_row_per_line():
    content = b"name,email\r\nA,a@mail.test\nB,b@mail.test\rC,c@mail.test\r\n"

    _table, rows = read(content)

    assert [cells[0] for _line, cells in rows] == ["A", "B", "C"]


def test_blank_rows_are_skipped_but_lines_keep_their_numbers():
    content = b"name,email\n\nA,a@mail.test\n,\nB,b@mail.test\n"

    _table, rows = read(content)

    assert [line for line, _cells in rows] == [3, 5]


def test_a_quoted_cell_may_hold_a_delimiter_and_a_newline():
    content = b'name,email\n"Smith, John\nJr.",john@mail.test\n'

    _table, rows = read(content)

    assert rows == [(2, ["Smith, John\nJr.", "john@mail.test"])]


def test_a_one_megabyte_cell_is_read_for_the_row_check_to_refuse():
    content = b"name,email\n" + b"x" * (1024 * 1024) + b",big@mail.test\n"

    _table, rows = read(content)

    assert len(rows[0][1][0]) == 1024 * 1024


def test_xlsx_first_sheet_is_read_as_text():
    rows = [
        ["Name", "Email", "Phone", "Joined", "Score", "Formula"],
        ["Ann", "ann@mail.test", 4930123456, datetime.datetime(2026, 11, 30, 14, 5), 12.5, "=1+1"],
    ]

    table, read_rows = read(files.xlsx_bytes(rows, sheets=2), name="clients.xlsx")

    assert table.format == "xlsx"
    assert table.header == ["Name", "Email", "Phone", "Joined", "Score", "Formula"]
    # A number without ".0", a date in ISO form, a formula kept as its text (never evaluated).
    assert read_rows == [
        (2, ["Ann", "ann@mail.test", "4930123456", "2026-11-30 14:05:00", "12.5", "=1+1"])
    ]


def varied_workbook(write_only: bool) -> bytes:
    """Cells of every kind an import meets, in a normal workbook (a <dimension>) or a
    write-only one (none). openpyxl writes inline strings either way: the shared strings of
    Excel's and LibreOffice's files are in data/libreoffice.xlsx."""
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("First") if write_only else workbook.active
    rows = [
        ["Name", "Email", "Phone", "When", "Amount", "Flag", "Formula"],
        [
            "Ann",
            "ann@mail.test",
            4930123456,
            datetime.datetime(2026, 11, 30, 14, 5),
            12.5,
            True,
            "=1+1",
        ],
        ["Zoë", None, "+49 30 1", datetime.date(2025, 1, 2), 0.1 + 0.2, False, "=SUM(E2:E3)"],
        [None, None, None, None, None, None, None],
        ["Łukasz", "l@mail.test", None, datetime.time(9, 30), -3, None, "#N/A"],
        ["Multi\nline", "m@mail.test", "", None, 1e20, None, None],
    ]
    for row in rows:
        sheet.append(row)
    if not write_only:
        sheet["J9"] = "far cell"  # a gap of columns and rows
        sheet["E3"].number_format = "0.00%"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("source", ["normal", "write_only", "libreoffice"])
def test_the_workbook_reader_reads_what_openpyxl_reads(source):
    if source == "libreoffice":  # saved by LibreOffice Calc: shared strings, date styles
        content = (DATA / "libreoffice.xlsx").read_bytes()
    else:
        content = varied_workbook(source == "write_only")
    book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    expected = [
        [_cell_text(value) for value in row]
        for row in book.worksheets[0].iter_rows(values_only=True)
    ]

    table, rows = read(content, name="varied.xlsx")

    def trimmed(cells):
        while cells and cells[-1] == "":
            cells = cells[:-1]
        return cells

    assert trimmed(table.header) == trimmed(expected[0])
    got = {line: trimmed(cells) for line, cells in rows}
    want = {line: trimmed(cells) for line, cells in enumerate(expected[1:], start=2) if any(cells)}
    assert got == want
    assert got[2][:4] == (
        ["Chloé Müller", "chloe@mail.test", "+49 30 1", "2026-11-30 00:00:00"]
        if source == "libreoffice"
        else ["Ann", "ann@mail.test", "4930123456", "2026-11-30 14:05:00"]
    )  # a date cell, by its number format


def test_a_workbook_shared_formula_is_read_translated():
    content = files.xlsx_with_sheet_xml(
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData>"
        '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
        '<row r="2"><c r="A2"><f t="shared" ref="A2:A3" si="0">B2*2</f><v>4</v></c></row>'
        '<row r="3"><c r="A3"><f t="shared" si="0"/><v>6</v></c></row>'
        "</sheetData></worksheet>"
    )

    _table, rows = read(content, name="formulas.xlsx")

    assert rows == [(2, ["=B2*2"]), (3, ["=B3*2"])]


# --- Files that are not tables ------------------------------------------------------------------


def refused(content: bytes, name="clients.csv") -> str:
    with pytest.raises(FileRefused) as caught:
        read(content, name=name)
    return caught.value.message


@pytest.mark.parametrize(
    ("content", "name", "says"),
    [
        (b"", "clients.csv", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "clients.csv", "PNG image"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 50, "photo.xlsx", "JPEG image"),
        (b"%PDF-1.7\n...", "clients.csv", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 50, "clients.xls", ".xls"),
        (files.plain_zip(), "clients.xlsx", "zip archive, not an Excel workbook"),
        (b"PK\x03\x04 damaged", "clients.xlsx", "damaged"),
        (b"name,email\n", "clients.txt", None),  # a header alone is read (the check refuses)
        (b"just some text", "clients.xlsx", "not an Excel workbook"),
        (b"name,em\x00ail\nA,a@mail.test\n", "clients.csv", "NUL bytes"),
        (b"\n\n", "clients.csv", "first row is empty"),
    ],
)
def test_what_is_not_a_table_is_refused_with_a_message_that_says_why(content, name, says):
    if says is None:
        _table, rows = read(content, name=name)
        assert rows == []
        return
    assert says in refused(content, name=name)


def test_a_nul_byte_far_into_the_file_is_refused_before_any_row_is_read():
    content = b"name,email\n" + b"a,a@mail.test\n" * 20_000 + b"b,b\x00@mail.test\n"

    assert "NUL bytes" in refused(content)


def test_an_xlsx_zip_bomb_is_refused_before_it_is_inflated():
    assert "zip bomb" in refused(files.zip_bomb(inflated_mb=500), name="clients.xlsx")


def test_shared_strings_past_twice_the_size_limit_are_refused(settings, monkeypatch):
    content = (DATA / "libreoffice.xlsx").read_bytes()  # its sharedStrings.xml is 715 bytes
    settings.IMPORT_MAX_MB = 1
    monkeypatch.setattr("imports.readers.SHARED_STRINGS_MAX_FACTOR", 0.0005)  # 524 bytes

    assert "zip bomb" in refused(content, name="clients.xlsx")


def test_an_xml_entity_bomb_in_a_workbook_is_refused():
    content = files.xlsx_with_sheet_xml(files.billion_laughs())

    assert "cannot be read" in refused(content, name="clients.xlsx")


def test_a_file_with_too_many_columns_is_refused():
    content = b",".join(b"c%d" % i for i in range(201)) + b"\nx\n"

    assert "201 columns; an import reads at most 200" in refused(content)


def test_a_workbook_cell_far_to_the_right_is_not_padded_to():
    content = files.xlsx_with_sheet_xml(
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>Ann</t></is></c>'
        '<c r="XFD2" t="inlineStr"><is><t>far</t></is></c></row></sheetData></worksheet>'
    )

    _table, rows = read(content, name="sparse.xlsx")

    assert rows == [(2, ["Ann"])]


def test_a_workbook_cell_longer_than_excel_allows_is_refused():
    long = "x" * 40_000
    content = files.xlsx_with_sheet_xml(
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>{long}</t></is></c></row>'
        "</sheetData></worksheet>"
    )

    assert "more than 32,767 characters" in refused(content, name="long.xlsx")


def test_blank_lines_do_not_count_towards_the_row_limit(settings):
    settings.IMPORT_MAX_ROWS = 2

    _table, rows = read(b"name,email\n\n\n\nA,a@mail.test\n\n\nB,b@mail.test\n\n")

    assert [line for line, _cells in rows] == [5, 8]


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.IMPORT_MAX_MB = 1

    message = refused(b"name,email\n" + b"a,a@mail.test\n" * 80_000)

    assert "the limit is 1 MB" in message


def test_a_million_rows_are_refused_over_the_row_limit():
    content = b"name,email\n" + b"a,a@mail.test\n" * 1_000_000  # 14 MB, within the size limit

    assert "more than 200,000 rows" in refused(content)


def test_an_xlsx_over_the_row_limit_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 5
    rows = [["name", "email"]] + [[f"n{i}", f"n{i}@mail.test"] for i in range(6)]

    assert "more than 5 rows" in refused(files.xlsx_bytes(rows), name="clients.xlsx")


def test_rows_up_to_the_limit_are_read(settings):
    settings.IMPORT_MAX_ROWS = 5
    rows = [["name", "email"]] + [[f"n{i}", f"n{i}@mail.test"] for i in range(5)]

    assert len(read(files.csv_bytes(rows))[1]) == 5
    assert len(read(files.xlsx_bytes(rows), name="c.xlsx")[1]) == 5
