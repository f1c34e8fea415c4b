import pytest
from django.db import IntegrityError, connection, transaction

from clients.models import Client
from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_email_is_stored_lowercased():
    client = Client.objects.create(name="Ada", email="USER@MAIL.COM")
    client.refresh_from_db()
    assert client.email == "user@mail.com"


def test_bulk_create_and_update_lowercase_too():
    Client.objects.bulk_create([Client(name="Bulk", email="Bulk@Mail.TEST")])
    assert Client.objects.get(name="Bulk").email == "bulk@mail.test"
    Client.objects.filter(name="Bulk").update(email="NEW@Mail.TEST")
    assert Client.objects.get(name="Bulk").email == "new@mail.test"


def test_lookup_by_email_ignores_case():
    ClientFactory(email="ada@mail.test")
    assert Client.objects.filter(email="ADA@Mail.Test").exists()


def test_case_variant_of_an_email_cannot_be_stored():
    ClientFactory(email="a@x.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.create(name="Dup", email="A@X.test")


def test_database_refuses_an_uppercase_email_even_from_raw_sql():
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO clients_client (name, email, phone, avatar, vip, created_at) "
            "VALUES ('Raw', 'RAW@X.TEST', '', '', false, CURRENT_TIMESTAMP)"
        )


def test_newest_clients_come_first():
    first, second, third = ClientFactory(), ClientFactory(), ClientFactory()
    assert list(Client.objects.all()) == [third, second, first]


def test_initials_fall_back_when_the_name_has_no_letters():
    assert Client(name="Ada Lovelace").initials == "AL"
    assert Client(name="ürsula von der leyen").initials == "ÜV"
    assert Client(name="—").initials == "?"
