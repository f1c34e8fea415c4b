"""The report speaks the business's language (LANGUAGE_CODE): its subject, body, CSV column
names and failure alert; its months stay in TIME_ZONE and the CSV's values machine-readable."""

import csv
import io
from datetime import date

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import translation

from reports.services import monthly_report_send, monthly_report_write_csv, report_failure_notify
from reports.tests.support import local, order_at

pytestmark = pytest.mark.django_db

DECEMBER = date(2026, 12, 1)


def december_orders():
    order_at(local(2026, 12, 1, 0, 0, 0), amount="20000.00", status="NEW")
    order_at(local(2026, 12, 31, 23, 59, 59), amount="730.00", status="DONE")
    order_at(local(2027, 1, 1, 0, 0, 0), amount="5.00")  # January in Berlin


@override_settings(LANGUAGE_CODE="ru")
def test_a_russian_business_gets_a_russian_report():
    december_orders()

    outcome = monthly_report_send(month=DECEMBER)

    assert outcome.row_count == 2
    [message] = mail.outbox
    assert message.subject == "Отчёт по заказам за декабрь 2026"
    assert "Отчёт по заказам за декабрь 2026 (Europe/Berlin)." in message.body
    assert "Заказов: 2" in message.body
    # Amounts for people: grouped, with a decimal comma (Django's Russian formats).
    assert "Итого: 20\xa0730,00" in message.body
    assert "20\xa0000,00" in message.body
    assert "Заказы — во вложенном CSV-файле." in message.body
    [(filename, content, _mimetype)] = message.attachments
    assert filename == "orders-2026-12.csv"
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == [
        "Номер заказа",
        "Создан",
        "Клиент",
        "Email клиента",
        "Название",
        "Статус",
        "Сумма",
    ]
    # The values stay machine-readable: ISO times, status codes, plain decimals with a dot.
    assert rows[1][1] == "2026-12-01T00:00:00+01:00"
    assert rows[1][5] == "NEW"
    assert rows[1][6] == "20000.00"
    assert ["Статус", "Заказов", "Сумма"] in rows
    assert rows[-1] == ["ИТОГО", "2", "20730.00"]


@override_settings(LANGUAGE_CODE="ru")
def test_the_report_ignores_the_language_active_where_it_runs():
    december_orders()

    with translation.override("en"):
        monthly_report_send(month=DECEMBER)

    assert mail.outbox[0].subject == "Отчёт по заказам за декабрь 2026"


def test_an_english_business_reads_grouped_amounts_in_the_mail_and_plain_ones_in_the_csv():
    december_orders()

    with translation.override("ru"):  # a Russian request or worker does not matter either
        monthly_report_send(month=DECEMBER)

    [message] = mail.outbox
    assert message.subject == "Orders report December 2026"
    assert "Total: 20,730.00" in message.body
    content = message.attachments[0][1]
    assert content.startswith("order_id,created_at,client_name,client_email,title,status,amount")
    assert content.splitlines()[-1] == "TOTAL,2,20730.00"


@override_settings(LANGUAGE_CODE="ru")
def test_the_csv_written_on_its_own_has_the_russian_header():
    out = io.StringIO()
    monthly_report_write_csv(month=DECEMBER, out=out)
    assert out.getvalue().splitlines()[0].startswith("Номер заказа,Создан,")


@override_settings(LANGUAGE_CODE="ru", ADMINS=["ops@mail.test"], REPORT_CATCHUP_MONTHS=2)
def test_the_failure_alert_to_the_admins_is_in_the_business_language():
    assert report_failure_notify(month=DECEMBER, error=RuntimeError("boom"))

    [alert] = mail.outbox
    assert alert.to == ["ops@mail.test"]
    assert alert.subject.endswith("Отчёт по заказам за 2026-12 не отправлен")
    assert "Не удалось отправить отчёт по заказам за 2026-12." in alert.body
    assert "28 февраля 2027" in alert.body
    assert "python manage.py send_monthly_report --month 2026-12" in alert.body
