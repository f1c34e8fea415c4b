import pytest
from django.contrib.contenttypes.models import ContentType

from clients.models import Client
from clients.tests.factories import ClientFactory
from history.models import Entry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("email", ["boss@company.com", "Boss@COMPANY.com"])
def test_company_domain_makes_a_client_vip(email):
    client = ClientFactory(email=email)
    assert client.vip is True
    assert Client.objects.get(pk=client.pk).vip is True


@pytest.mark.parametrize(
    "email", ["a@notcompany.com", "a@company.com.evil.test", "a@sub.company.com", "a@mail.test"]
)
def test_other_domains_are_not_vip(email):
    assert ClientFactory(email=email).vip is False


def test_vip_rule_costs_no_query_of_its_own(django_assert_num_queries):
    ContentType.objects.get_for_model(Client)  # cached by every process's first history entry
    # 1. INSERT the client, already VIP (the rule runs before the save), 2. INSERT its history
    # entry (history/), which records it as VIP.
    with django_assert_num_queries(2):
        client = Client.objects.create(name="Boss", email="boss@company.com")
    assert Client.objects.get(pk=client.pk).vip is True


def test_an_email_changed_to_the_vip_domain_makes_the_client_vip_in_the_same_entry():
    client = ClientFactory(email="boss@mail.test")
    client.email = "boss@company.com"
    client.save()
    assert Client.objects.get(pk=client.pk).vip is True
    entry = Entry.objects.filter(object_id=client.pk, action=Entry.Action.UPDATE).get()
    assert entry.changes == {
        "email": ["boss@mail.test", "boss@company.com"],
        "vip": [False, True],
    }


def test_a_save_of_named_fields_still_applies_the_rule_and_records_it():
    client = ClientFactory(email="boss@mail.test")
    Client.objects.filter(pk=client.pk).update(email="boss@company.com")
    client.email, client.name = "boss@company.com", "Boss"
    client.save(update_fields=["name"])
    assert Client.objects.get(pk=client.pk).vip is True
    entries = Entry.objects.filter(object_id=client.pk, action=Entry.Action.UPDATE)
    assert [e.changes for e in entries.order_by("id")][-1] == {"vip": [False, True]}


def test_vip_set_by_hand_is_kept():
    client = ClientFactory(email="a@mail.test", vip=True)
    client.name = "Renamed"
    client.save()
    assert Client.objects.get(pk=client.pk).vip is True


def test_domain_list_is_a_setting(settings):
    settings.VIP_EMAIL_DOMAINS = ["partner.test"]
    assert ClientFactory(email="x@partner.test").vip is True
    assert ClientFactory(email="x@company.com").vip is False


def test_vip_is_shown_in_the_list(member_client):
    ClientFactory(name="Boss", email="boss@company.com")
    assert 'title="VIP client">VIP</span>' in member_client.get("/clients/").text
