"""What the report tests share: October 2026, Berlin times, orders dated in the past and the
report's CSV read back."""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from clients.models import Order
from clients.tests.factories import OrderFactory

OCTOBER = date(2026, 10, 1)
BERLIN = ZoneInfo("Europe/Berlin")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def order_at(when: datetime, **fields) -> Order:
    """An order created at `when` (created_at is auto_now_add, so it is set afterwards)."""
    order = OrderFactory(**fields)
    Order.objects.filter(pk=order.pk).update(created_at=when)
    order.refresh_from_db()
    return order


def parse_report(text: str) -> tuple[list[list[str]], dict[str, list[str]]]:
    """(order rows without the header, {status or TOTAL: [orders, amount]})."""
    rows = list(csv.reader(io.StringIO(text)))
    blank = rows.index([])
    totals = {row[0]: row[1:] for row in rows[blank + 2 :]}
    return rows[1:blank], totals


SEPTEMBER, NOVEMBER = date(2026, 9, 1), date(2026, 11, 1)


def reports_mailed(outbox) -> list[str]:
    """The subjects of the monthly reports among the mails sent (not the alerts)."""
    return [message.subject for message in outbox if message.attachments]
