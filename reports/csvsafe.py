"""CSV formula-injection escaping for the report.

A spreadsheet runs a cell that starts with = + - @ (or a tab/carriage return before one) as a
formula; a client named `=HYPERLINK(...)` must arrive as text. Prefixing a single quote is what
OWASP recommends. (A shared core/csv.py may replace this module when the branches merge.)
"""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """`value` safe to open in a spreadsheet: text that starts like a formula gets a `'`."""
    if value and value.startswith(_FORMULA_START):
        return "'" + value
    return value
