"""Every field and model of our apps is named in Russian for a Russian reader: the admin's
columns and forms, and the history's field names (history/display.py), read verbose_name."""

import pytest
from django.apps import apps
from django.utils import translation

# The apps whose models are named in both languages (issue 18).
APPS = ["clients", "dashboard", "history", "imports", "reports", "timeline"]
# Words Russian keeps as they are in English: the CRM says "email" and "VIP" too.
SAME_IN_RUSSIAN = {"email", "VIP"}


def names(model) -> list[tuple[str, str]]:
    opts = model._meta
    found = [
        ("verbose_name", opts.verbose_name),
        ("verbose_name_plural", opts.verbose_name_plural),
    ]
    for field in opts.get_fields():
        # Reverse relations are named by their own model; the automatic id is "ID" in both.
        if field.auto_created or not field.concrete:
            continue
        found.append((field.name, field.verbose_name))
    return found


@pytest.mark.parametrize(
    "model",
    [model for label in APPS for model in apps.get_app_config(label).get_models()],
    ids=lambda model: model._meta.label,
)
def test_every_field_and_model_has_a_russian_name(model):
    with translation.override("en"):
        english = [(name, str(text)) for name, text in names(model)]
    with translation.override("ru"):
        russian = [(name, str(text)) for name, text in names(model)]
    untranslated = [
        name
        for (name, en), (_, ru) in zip(english, russian, strict=True)
        if en == ru and en not in SAME_IN_RUSSIAN
    ]
    assert untranslated == []


def test_client_and_order_fields_read_in_russian():
    Client = apps.get_model("clients", "Client")
    Order = apps.get_model("clients", "Order")
    with translation.override("ru"):
        assert str(Client._meta.get_field("name").verbose_name) == "имя"
        assert str(Client._meta.get_field("orders_total").verbose_name) == "сумма заказов"
        assert str(Client._meta.verbose_name_plural) == "клиенты"
        assert str(Order._meta.get_field("amount").verbose_name) == "сумма"
        assert str(Order._meta.get_field("status").verbose_name) == "статус"
        assert str(Order._meta.verbose_name) == "заказ"
