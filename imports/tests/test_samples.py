"""The sample files in docs/import-samples/, which the README walks a newcomer through, say
what the README says they say."""

from pathlib import Path

import pytest

from clients.models import Client
from clients.tests.factories import UserFactory
from imports import services
from imports.models import Import
from imports.tests.files import upload

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "import-samples"

pytestmark = pytest.mark.django_db


def run(name: str, kind: str, **options) -> Import:
    user = UserFactory(username="sampler", roles=["Managers"])
    batch = services.import_create(
        user=user, kind=kind, upload=upload((SAMPLES / name).read_bytes(), name)
    )
    batch = services.import_check(import_id=batch.pk)
    if options:
        Import.objects.filter(pk=batch.pk).update(**options)
    return services.import_commit(import_id=batch.pk)


def test_the_messy_workbook_imports_whole():
    batch = run("clients-messy.xlsx", "clients")

    assert (batch.status, batch.created, batch.invalid) == ("done", 6, 0)
    assert batch.ignored_columns == ["Notes", "Account manager"]
    mueller = Client.objects.get(email="info@mueller-soehne.de")
    assert (mueller.name, mueller.phone) == ("Müller & Söhne GmbH", "493012345678")
    assert Client.objects.get(email="sales@company.com").vip


def test_the_file_with_errors_says_what_is_wrong_on_each_line():
    batch = run("clients-with-errors.csv", "clients")

    assert batch.status == "failed"
    assert [(e["line"], e["field"]) for e in batch.errors] == [
        (3, "email"),
        (4, "phone"),
        (5, "name"),
        (6, "email"),
        (7, "email"),
    ]
    batch = run("clients-with-errors.csv", "clients", skip_invalid=True)
    assert (batch.status, batch.created, batch.invalid) == ("done", 2, 5)
    assert Client.objects.get(email="zoe@adams.co.uk").name == "Zoë Adams"


def test_the_orders_land_on_the_clients_of_the_workbook():
    run("clients-messy.xlsx", "clients")

    batch = run("orders.csv", "orders", skip_invalid=True)

    assert (batch.status, batch.created, batch.invalid) == ("done", 4, 2)
    assert [(e["line"], e["field"]) for e in batch.errors] == [(6, "client_email"), (7, "amount")]
    assert Client.objects.get(email="info@mueller-soehne.de").orders_count == 2
