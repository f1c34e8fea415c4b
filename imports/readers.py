"""Reading an uploaded table: a CSV in the encodings and delimiters spreadsheets write, or the
first sheet of an .xlsx, as one header and a stream of rows of text, within the limits of
settings.IMPORT_MAX_MB and IMPORT_MAX_ROWS.

Everything a user can get wrong about the file itself (not a table, empty, too big, a zip
bomb, binary bytes) is a FileRefused with a message for them; a row's own mistakes are the
row validators' (imports/rows.py).
"""

import codecs
import contextlib
import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import iterparse

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from openpyxl.formula.translate import Translator
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601

# A cell may be as long as the file may be large: a 1 MB cell is then the row's error ("at
# most 200 characters"), not a parser failure. The limit is the csv module's, process-wide.
csv.field_size_limit(2**31 - 1)

SNIFF_CHARS = 64 * 1024
DELIMITERS = ",;\t"
# An .xlsx is a zip of XML: a sheet of 200,000 short rows unzips to ~40 MB. Past these, it is a
# zip bomb (a few KB that unzip to gigabytes), refused before a byte is inflated.
XLSX_MAX_UNZIPPED_BYTES = 400 * 1024 * 1024
XLSX_MAX_RATIO = 200
# The shared strings are held in memory while the sheet is read: a legitimate file's (200,000
# rows of text) take a few tens of MB; past twice IMPORT_MAX_MB they are a bomb of their own.
SHARED_STRINGS_MAX_FACTOR = 2
# Excel's own limit for one cell: a workbook with longer cells was not saved by a spreadsheet.
XLSX_MAX_CELL_CHARS = 32_767
# Columns read from a file: an import fills five fields at most; the rest are "ignored" columns
# listed on the preview, and 200,000 of them made a 33 MB page.
MAX_COLUMNS = 200
HEADER_MAX_CHARS = 100

# Magic numbers of files people upload by mistake, for a message that says what they are.
_NOT_TABLES = {
    b"\x89PNG": gettext_lazy("a PNG image"),
    b"\xff\xd8\xff": gettext_lazy("a JPEG image"),
    b"GIF8": gettext_lazy("a GIF image"),
    b"%PDF": gettext_lazy("a PDF document"),
    b"\xd0\xcf\x11\xe0": gettext_lazy("an old Excel 97–2003 (.xls) or Word file"),
    b"\x1f\x8b": gettext_lazy("a gzip archive"),
    b"Rar!": gettext_lazy("a RAR archive"),
    b"7z\xbc\xaf": gettext_lazy("a 7-Zip archive"),
}


class FileRefused(Exception):
    """The file cannot be read as a table; nothing was or will be saved. `message` is for the
    user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """A file's header and its rows. `rows` yields (line, cells): the line is the row's number
    as a spreadsheet shows it (the header is line 1), blank rows skipped but counted.
    `estimated_rows` is exact for a CSV, the sheet's declared size for an .xlsx."""

    format: str  # "csv" or "xlsx"
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    estimated_rows: int
    encoding: str = ""
    delimiter: str = ""
    _close: list = field(default_factory=list)

    def close(self) -> None:
        for close in self._close:
            close()


def max_bytes() -> int:
    return settings.IMPORT_MAX_MB * 1024 * 1024


def open_table(file, *, name: str) -> Table:
    """The table in `file` (a binary file object, seekable), read lazily. Raises FileRefused."""
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    if size > max_bytes():
        raise FileRefused(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Split it into smaller files.")
            % {"size": f"{size / 1024 / 1024:.1f}", "limit": settings.IMPORT_MAX_MB}
        )
    if size == 0:
        raise FileRefused(_("The file is empty."))
    head = file.read(8)
    file.seek(0)
    for magic, what in _NOT_TABLES.items():
        if head.startswith(magic):
            raise FileRefused(
                _("This is %(what)s, not a table. Upload a .csv file or an .xlsx workbook.")
                % {"what": what}
            )
    if head.startswith(b"PK\x03\x04"):
        table = _open_xlsx(file)
    elif name.lower().endswith((".xlsx", ".xlsm")):
        raise FileRefused(_("This file is named .xlsx but is not an Excel workbook."))
    else:
        table = _open_csv(file)
    if not any(table.header):
        table.close()
        raise FileRefused(_("The first row is empty: it should hold the column names."))
    if len(table.header) > MAX_COLUMNS:
        table.close()
        raise FileRefused(
            _("The file has %(count)s columns; an import reads at most %(limit)s.")
            % {"count": f"{len(table.header):,}", "limit": MAX_COLUMNS}
        )
    table.header = [text[:HEADER_MAX_CHARS] for text in table.header]
    return table


def open_rows_copy(file) -> Table:
    """The CSV copy of a workbook's rows that a check wrote (imports/services.py): UTF-8, commas,
    blank rows kept, already within the limits (the workbook was held to them)."""
    reader = _records(file, "utf-8", ",")
    header = next(reader, None) or []
    rows = _numbered(reader, limit=False)
    return Table(
        format="csv",
        header=header,
        rows=rows,
        estimated_rows=0,
        encoding="utf-8",
        delimiter=",",
        _close=[rows.close, reader.close],
    )


# --- CSV ------------------------------------------------------------------------------------


def _encoding(file) -> str:
    """UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text"), else Windows-1252.

    UTF-8 is tried over the whole file, incrementally: a single accented name at row 90,000
    decides it. Windows-1252 reads any byte but five; a file with those is not text."""
    head = file.read(4)
    file.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # UTF-16 without a BOM: every other byte of ASCII text is a NUL.
    if len(head) == 4 and head[1] == 0 and head[3] == 0 and head[0] and head[2]:
        return "utf-16-le"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := file.read(1024 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"
    finally:
        file.seek(0)


def _delimiter(sample: str) -> str:
    first_line = sample.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        # One column, or a sample the sniffer cannot decide: the header's most frequent one.
        counts = {d: first_line.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _text(file, encoding: str) -> io.TextIOWrapper:
    # newline="": the csv module itself reads \r\n, \n and \r, mixed in one file too.
    return io.TextIOWrapper(file, encoding=encoding, newline="", errors="strict")


def _open_csv(file) -> Table:
    encoding = _encoding(file)
    text = _text(file, encoding)
    try:
        sample = text.read(SNIFF_CHARS)
    except UnicodeDecodeError:
        raise FileRefused(
            _("This file is not text: save it from your spreadsheet as CSV (UTF-8).")
        ) from None
    finally:
        text.detach()  # else closing the wrapper (when collected) closes the upload
        file.seek(0)
    if "\x00" in sample:
        raise FileRefused(_not_text_message())
    delimiter = _delimiter(sample)
    total = _count_records(file, encoding, delimiter)
    reader = _records(file, encoding, delimiter)
    header = next(reader, None)
    if header is None:
        raise FileRefused(_("The file is empty."))
    rows = _numbered(reader)
    return Table(
        format="csv",
        header=[cell.strip() for cell in header],
        rows=rows,
        estimated_rows=max(total - 1, 0),
        encoding=encoding,
        delimiter=delimiter,
        _close=[rows.close, reader.close],
    )


def _not_text_message() -> str:
    return _(
        "The file holds NUL bytes, so it is not a CSV text: save it from your spreadsheet as "
        "CSV (UTF-8) or upload the .xlsx."
    )


def _records(file, encoding: str, delimiter: str) -> Iterator[list[str]]:
    file.seek(0)
    text = _text(file, encoding)
    reader = csv.reader(text, delimiter=delimiter)
    try:
        for record in reader:
            for cell in record:
                if "\x00" in cell:
                    raise FileRefused(_not_text_message())
            yield record
    except UnicodeDecodeError:
        raise FileRefused(
            _("This file is not text: save it from your spreadsheet as CSV (UTF-8).")
        ) from None
    except csv.Error as error:
        raise FileRefused(
            _("Line %(line)s cannot be read as CSV (%(error)s).")
            % {"line": reader.line_num, "error": error}
        ) from None
    finally:
        with contextlib.suppress(ValueError):  # the upload was closed first
            text.detach()


def _count_records(file, encoding: str, delimiter: str) -> int:
    """Records in the file, up to one past the row limit (the progress bar's total, and the
    limit checked before any row is validated)."""
    limit = settings.IMPORT_MAX_ROWS + 1
    count = 0
    for record in _records(file, encoding, delimiter):
        if any(cell.strip() for cell in record):  # blank lines are not rows (_numbered)
            count += 1
            if count > limit:
                break
    file.seek(0)
    _refuse_over_limit(count - 1)
    return count


def _refuse_over_limit(rows: int) -> None:
    if rows > settings.IMPORT_MAX_ROWS:
        raise FileRefused(
            ngettext(
                "The file has more than %(limit)s row; split it into smaller files.",
                "The file has more than %(limit)s rows; split it into smaller files.",
                settings.IMPORT_MAX_ROWS,
            )
            % {"limit": f"{settings.IMPORT_MAX_ROWS:,}"}
        )


def _numbered(records: Iterator[list], *, limit: bool = True) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of the rows after the header, blank rows skipped, the row limit kept, the
    cells past MAX_COLUMNS dropped (the header has no name for them)."""
    rows = 0
    for line, cells in enumerate(records, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        rows += 1
        if limit and rows > settings.IMPORT_MAX_ROWS:
            _refuse_over_limit(rows)
        yield line, cells[:MAX_COLUMNS]


# --- XLSX -----------------------------------------------------------------------------------


def _open_xlsx(file) -> Table:
    try:
        archive = zipfile.ZipFile(file)
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused(_("This file is a damaged zip, not an Excel workbook.")) from None
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names:
        raise FileRefused(
            _("This is a zip archive, not an Excel workbook. Upload a .csv or an .xlsx file.")
        )
    unzipped = sum(entry.file_size for entry in entries)
    ratio = max(
        (entry.file_size / max(entry.compress_size, 1) for entry in entries if entry.file_size),
        default=0,
    )
    shared = sum(e.file_size for e in entries if e.filename.lower().endswith("sharedstrings.xml"))
    too_big = unzipped > XLSX_MAX_UNZIPPED_BYTES or shared > SHARED_STRINGS_MAX_FACTOR * max_bytes()
    if too_big or (ratio > XLSX_MAX_RATIO and unzipped > max_bytes()):
        raise FileRefused(
            _(
                "This workbook unzips to %(size)s MB: far too much for its size (a zip bomb?). "
                "Save it again from Excel, or as CSV."
            )
            % {"size": f"{unzipped / 1024 / 1024:,.0f}"}
        )
    # Entity expansion bombs ("billion laughs") are refused by expat itself since 2.4 (Python
    # 3.13 ships 2.6), and ElementTree fetches no external entity: defusedxml, which openpyxl
    # would use if installed, only made the parse 40% slower (its pure-Python parser).
    try:
        file.seek(0)
        workbook, sheet_path = _first_sheet(file)
        rows = _sheet_values(workbook, sheet_path)
        header = next(rows, None)
    except FileRefused:
        raise
    except Exception:  # openpyxl raises KeyError, ValueError, XML errors … on a damaged file
        raise FileRefused(_("This Excel workbook cannot be read: it may be damaged.")) from None
    if header is None:
        workbook._archive.close()
        raise FileRefused(_("The first sheet of this workbook is empty."))
    declared = _declared_rows(workbook, sheet_path) - 1
    if declared > settings.IMPORT_MAX_ROWS * 2:
        # The declared size is an upper bound for sheets Excel wrote (blank rows included);
        # far past the limit, the file is refused before it is read.
        workbook._archive.close()
        _refuse_over_limit(declared)
    return Table(
        format="xlsx",
        header=[_cell_text(cell).strip() for cell in header],
        rows=_numbered(_xlsx_records(rows)),
        estimated_rows=max(min(declared, settings.IMPORT_MAX_ROWS), 0),
        _close=[rows.close, workbook._archive.close],
    )


def _first_sheet(file):
    """The workbook (its shared strings, number formats, epoch) and its first worksheet's path.

    openpyxl's ExcelReader, step by step, without its read_worksheets(): that sizes every sheet
    at load, and a sheet without a <dimension> (openpyxl's own write-only files) is then parsed
    whole before a row is read."""
    reader = ExcelReader(file, read_only=True, data_only=False)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    reader.wb._archive = reader.archive
    # The strings are the reader's: ExcelReader hands them to each sheet it makes, and the
    # workbook's own list stays empty (every text cell of Excel's files is one of them).
    reader.wb.shared_strings = reader.shared_strings
    for _sheet, rel in reader.parser.find_sheets():
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
            return reader.wb, rel.target
    reader.archive.close()
    raise FileRefused(_("This workbook holds no worksheet."))


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')


def _declared_rows(workbook, sheet_path: str) -> int:
    """The sheet's last row as its <dimension> declares it (near the top of its XML), else 0."""
    with workbook._archive.open(sheet_path) as source:
        match = _DIMENSION.search(source.read(4096))
    return int(match.group(1) or 1) if match else 0


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _FORMULA = f"{_MAIN}row", f"{_MAIN}c", f"{_MAIN}v", f"{_MAIN}f"
_INLINE, _TEXT = f"{_MAIN}is", f"{_MAIN}t"
_COLUMN = re.compile(r"[A-Z]+")


def _sheet_values(workbook, sheet_path: str) -> Iterator[tuple]:
    """The sheet's rows as tuples of values, as openpyxl's `iter_rows(values_only=True)` gives
    them (a missing row or cell is None, a formula its text), at 2.5x its speed.

    openpyxl opens the workbook (its sheets, shared strings and number formats); its per-cell
    reader, generic over every cell property, was 70% of a 100,000-row preview. This reads
    only what an import uses, with openpyxl's own rules for numbers and dates, and is held to
    iter_rows() by imports/tests/test_readers.py. The `_date_formats` sets are openpyxl's
    (pinned in pyproject.toml)."""
    shared = workbook.shared_strings
    dates, durations = workbook._date_formats, workbook._timedelta_formats
    formulas: dict[str, Translator] = {}  # a shared formula's first cell, by its index
    columns: dict[str, int] = {}
    expected = 1
    for _event, element in iterparse(workbook._archive.open(sheet_path)):
        if element.tag != _ROW:
            continue
        number = int(element.get("r") or expected)
        for _missing in range(expected, number):
            yield ()
        expected = number + 1
        values: list = []
        for cell in element.iter(_CELL):
            reference = cell.get("r")
            if reference:
                letters = _COLUMN.match(reference).group()
                index = columns.get(letters)
                if index is None:
                    index = columns[letters] = column_index_from_string(letters) - 1
                if index >= MAX_COLUMNS:
                    continue  # no header names it (open_table refuses wider headers)
                values.extend([None] * (index - len(values)))
            elif len(values) >= MAX_COLUMNS:
                continue
            values.append(_cell_value(cell, shared, dates, durations, workbook.epoch, formulas))
        element.clear()
        yield tuple(values)


def _cell_value(cell, shared, dates, durations, epoch, formulas):
    value = formula = inline = None
    for child in cell:  # one pass over <v>, <f>, <is>: find() thrice was a third of the time
        tag = child.tag
        if tag == _VALUE:
            value = child.text
        elif tag == _FORMULA:
            formula = child
        elif tag == _INLINE:
            inline = child
    if formula is not None:
        text = "=" + (formula.text or "")
        if formula.get("t") == "shared":  # written once, in its first cell
            index, reference = formula.get("si"), cell.get("r")
            if formula.text:
                formulas[index] = Translator(text, reference)
            elif index in formulas:
                text = formulas[index].translate_formula(reference)
        return text
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return None if inline is None else "".join(t.text or "" for t in inline.iter(_TEXT))
    if not value:
        return None
    if kind == "s":
        return shared[int(value)]
    if kind == "n":
        number = float(value) if "." in value or "E" in value or "e" in value else int(value)
        style = cell.get("s")
        if style and int(style) in dates:
            try:
                return from_excel(number, epoch, timedelta=int(style) in durations)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return number
    if kind == "b":
        return bool(int(value))
    if kind == "d":
        return from_ISO8601(value)
    return value  # "str" (a formula's text result), "e" (an error such as #N/A)


def _xlsx_records(rows) -> Iterator[list[str]]:
    try:
        for row in rows:
            yield [_cell_text(cell) for cell in row]
    except FileRefused:
        raise
    except Exception:
        raise FileRefused(_("This Excel workbook cannot be read: it may be damaged.")) from None


def _cell_text(value) -> str:
    """A cell as the text a CSV of it would hold: a whole number without ".0", a date in ISO
    form, a formula as its text (`=SUM(A1:A3)`: kept, never evaluated)."""
    if value is None:
        return ""
    if isinstance(value, str):
        if "\x00" in value:
            raise FileRefused(_not_text_message())
        if len(value) > XLSX_MAX_CELL_CHARS:
            raise FileRefused(
                _(
                    "A cell holds more than %(limit)s characters, more than Excel allows: save "
                    "the sheet again from your spreadsheet, or as CSV."
                )
                % {"limit": f"{XLSX_MAX_CELL_CHARS:,}"}
            )
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)
