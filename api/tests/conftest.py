import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def api(db):
    """A guest."""
    return APIClient()


@pytest.fixture
def member_api(member):
    client = APIClient()
    client.force_login(member)
    return client


@pytest.fixture
def staff_api(staff):
    client = APIClient()
    client.force_login(staff)
    return client


@pytest.fixture
def reader_api(viewer):
    """A script with a Viewers user's token: what reading the API takes. Each request spends a
    query on who it is (the token with its user), the first also 2 on the user's and the
    groups' permissions (then cached, core.auth)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer).key}")
    return client
