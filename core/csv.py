"""CSV for spreadsheets: formula injection neutralised, a BOM so Excel reads UTF-8.

Shared by the client export and the monthly report. Only `str` cells are treated as user text
and escaped; numbers, dates and booleans that we compute are written as they are, so a
negative total (were there one) would stay a number.
"""

import csv
import datetime
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO

# Excel and LibreOffice read a UTF-8 file as the local code page unless it starts with this.
BOM = "\ufeff"

# A cell starting with one of these is evaluated as a formula (=HYPERLINK(...), +cmd|...) by
# spreadsheets; tab and CR can hide such a payload (OWASP "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """`text` prefixed with `'` when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def cell(value: object) -> object:
    """One cell: user text neutralised, computed values formatted plainly."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return value


class _Line:
    """A write-only file that hands back what was written (csv.writer needs a file)."""

    def write(self, text: str) -> str:
        return text


class CsvRowWriter:
    """Formats rows as CSV text, one `str` per call, for streaming responses and files alike.

    >>> CsvRowWriter().row(["=1+1", 3])
    "'=1+1,3\\r\\n"
    """

    def __init__(self) -> None:
        self._writer = csv.writer(_Line())

    def row(self, values: Iterable[object]) -> str:
        return self._writer.writerow([cell(v) for v in values])

    def rows(self, rows: Iterable[Iterable[object]]) -> str:
        return "".join(self.row(r) for r in rows)


def iter_csv(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The BOM and header, then one string per row."""
    writer = CsvRowWriter()
    yield BOM + writer.row(header)
    for r in rows:
        yield writer.row(r)


def write_csv(file: IO[str], header: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    """Write a whole CSV (BOM, header, rows) to a text file opened with newline=""."""
    for chunk in iter_csv(header, rows):
        file.write(chunk)
