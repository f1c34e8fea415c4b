import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


@pytest.mark.django_db
def test_health_is_plain_ok_without_login_database_or_session(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/health/")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Set-Cookie" not in response
    assert ctx.captured_queries == []
