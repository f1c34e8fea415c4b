"""The report's CSV: the month's orders in the project's time zone, escaped, with totals."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from clients.models import Order
from clients.tests.factories import ClientFactory
from reports.services import monthly_report_write_csv, parse_month, previous_month
from reports.tests.support import OCTOBER, local, order_at, parse_report

pytestmark = pytest.mark.django_db

# The header as it has always read: an English business's report does not change.
ENGLISH_HEADER = "order_id,created_at,client_name,client_email,title,status,amount"


def build(month=OCTOBER) -> tuple[str, object]:
    out = io.StringIO()
    summary = monthly_report_write_csv(month=month, out=out)
    return out.getvalue(), summary


def test_month_boundaries_follow_the_project_time_zone():
    first = order_at(local(2026, 10, 1, 0, 0, 0), title="first minute")
    last = order_at(local(2026, 10, 31, 23, 59, 59), title="last second")
    order_at(local(2026, 9, 30, 23, 59, 59), title="september")
    order_at(local(2026, 11, 1, 0, 0, 0), title="november")
    # 23:30 UTC on the 31st is already 00:30 on 1 November in Berlin.
    order_at(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), title="november in berlin")

    text, summary = build()
    rows, _ = parse_report(text)

    assert [row[0] for row in rows] == [str(first.pk), str(last.pk)]
    assert summary.row_count == 2
    # Local time with its offset: summer time on the 1st, winter time on the 31st.
    assert rows[0][1] == "2026-10-01T00:00:00+02:00"
    assert rows[1][1] == "2026-10-31T23:59:59+01:00"


def test_rows_have_the_documented_columns_oldest_first():
    client = ClientFactory(name="Ada Lovelace", email="ada@mail.test")
    later = order_at(local(2026, 10, 20, 9), client=client, title="Engine", amount="12.50")
    earlier = order_at(
        local(2026, 10, 2, 9), client=client, title="Notes", status=Order.Status.DONE
    )

    text, _ = build()

    assert text.splitlines()[0] == ENGLISH_HEADER
    rows, _ = parse_report(text)
    assert rows == [
        [
            str(earlier.pk),
            "2026-10-02T09:00:00+02:00",
            "Ada Lovelace",
            "ada@mail.test",
            "Notes",
            "DONE",
            "100.00",
        ],
        [
            str(later.pk),
            "2026-10-20T09:00:00+02:00",
            "Ada Lovelace",
            "ada@mail.test",
            "Engine",
            "NEW",
            "12.50",
        ],
    ]


def test_totals_per_status_and_grand_total():
    order_at(local(2026, 10, 3), amount="10.00", status=Order.Status.NEW)
    order_at(local(2026, 10, 4), amount="20.25", status=Order.Status.NEW)
    order_at(local(2026, 10, 5), amount="5.00", status=Order.Status.DONE)

    text, summary = build()
    _, totals = parse_report(text)

    assert totals == {
        "NEW": ["2", "30.25"],
        "IN_PROGRESS": ["0", "0.00"],
        "DONE": ["1", "5.00"],
        "TOTAL": ["3", "35.25"],
    }
    assert summary.total_amount == Decimal("35.25")


def test_empty_month_has_the_header_and_zero_totals():
    order_at(local(2026, 11, 2))

    text, summary = build()
    rows, totals = parse_report(text)

    assert text.splitlines()[0] == ENGLISH_HEADER
    assert rows == []
    assert totals["TOTAL"] == ["0", "0.00"]
    assert summary.row_count == 0


def test_cells_that_look_like_formulas_are_escaped():
    client = ClientFactory(name='=HYPERLINK("http://evil")', email="x@mail.test")
    order_at(local(2026, 10, 9), client=client, title="+1 cmd|calc")

    rows, _ = parse_report(build()[0])

    assert rows[0][2] == '\'=HYPERLINK("http://evil")'
    assert rows[0][4] == "'+1 cmd|calc"


def test_previous_month_is_the_calendar_month_before():
    assert previous_month(today=date(2026, 11, 1)) == date(2026, 10, 1)
    assert previous_month(today=date(2026, 1, 31)) == date(2025, 12, 1)


@pytest.mark.parametrize("text", ["2026-13", "2026/10", "october", "", "2026-10-01"])
def test_parse_month_rejects_anything_but_yyyy_mm(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month(text)
