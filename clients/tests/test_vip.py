import pytest
from django.contrib.contenttypes.models import ContentType

from clients.models import Client
from clients.tests.factories import ClientFactory

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


def test_vip_rule_runs_one_update_not_a_second_save(django_assert_num_queries):
    ContentType.objects.get_for_model(Client)  # cached by every process's first history entry
    # 1. INSERT the client, 2. UPDATE vip (no second post_save, no cascade), 3. INSERT its
    # history entry (history/), which records it as VIP.
    with django_assert_num_queries(3):
        Client.objects.create(name="Boss", email="boss@company.com")


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
