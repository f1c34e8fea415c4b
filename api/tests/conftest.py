import pytest
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
