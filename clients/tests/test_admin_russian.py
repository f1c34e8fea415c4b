"""The admin in Russian: our models' columns, fields and actions, and a history entry's
field names and values, read in Russian (verbose names, history/display.py)."""

import pytest
from django.utils import translation

from clients.models import Order
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from history.display import change_rows
from history.models import Entry

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
# Our models' admin pages: changelist, add and change (where the admin allows them).
PAGES = [
    "/admin/clients/client/",
    "/admin/clients/client/add/",
    "/admin/clients/order/",
    "/admin/clients/order/add/",
    "/admin/clients/trashedclient/",
    "/admin/history/entry/",
    "/admin/imports/import/",
    "/admin/reports/reportrun/",
    "/admin/auth/user/add/",
]


@pytest.fixture
def root_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def ada(db):
    ada = ClientFactory(name="Ann", email="ann@mail.test")
    OrderFactory(client=ada, title="Desk", amount="12.50", status=Order.Status.NEW)
    return ada


def test_the_client_changelist_and_change_page_read_in_russian(root_client, ada):
    listing = root_client.get("/admin/clients/client/", **RU).content.decode()
    assert "Имя" in listing
    assert "Добавлен" in listing
    assert ">Name<" not in listing

    page = root_client.get(f"/admin/clients/client/{ada.pk}/change/", **RU).content.decode()
    for russian in ["Имя", "Телефон", "Фото", "Название", "Сумма", "Статус", "Заказы"]:
        assert russian in page, russian
    for english in ["Phone:", ">Title<", ">Amount<", ">Status<"]:
        assert english not in page, english


def test_the_order_changelist_reads_in_russian(root_client, ada):
    listing = root_client.get("/admin/clients/order/", **RU).content.decode()
    for russian in ["Название", "Клиент", "Сумма", "Статус", "Новый"]:
        assert russian in listing, russian


@pytest.mark.parametrize("url", PAGES)
def test_our_admin_pages_render_in_russian(root_client, ada, url):
    response = root_client.get(url, **RU)
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "ru"


def test_a_history_entry_names_its_fields_and_values_in_russian(ada):
    order = ada.orders.get()
    order.status = Order.Status.DONE
    order.amount = "20.00"
    order.save()
    entry = Entry.objects.get(object_id=order.pk, action=Entry.Action.UPDATE)
    with translation.override("ru"):
        rows = change_rows(entry)
    assert sorted(rows) == [("статус", "Новый", "Выполнен"), ("сумма", "12,50", "20,00")]
    with translation.override("en"):
        assert sorted(change_rows(entry)) == [
            ("amount", "12.50", "20.00"),
            ("status", "New", "Done"),
        ]


def test_the_entries_list_reads_its_actions_in_russian(root_client, ada):
    page = root_client.get("/admin/history/entry/", **RU).content.decode()
    assert "создание" in page  # django-auditlog's "create", from mini_crm/locale


def test_a_history_entry_groups_large_amounts_as_the_pages_do(ada):
    order = ada.orders.get()
    order.amount = "20730.00"
    order.save()
    entry = Entry.objects.get(object_id=order.pk, action=Entry.Action.UPDATE)
    with translation.override("ru"):
        assert change_rows(entry) == [("сумма", "12,50", "20\xa0730,00")]
    with translation.override("en"):
        assert change_rows(entry) == [("amount", "12.50", "20,730.00")]


def test_the_admin_names_the_product(root_client):
    assert "Администрирование Mini CRM" in root_client.get("/admin/", **RU).text
