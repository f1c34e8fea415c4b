import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_or_errors():
    GENERATOR_STATS.reset()
    GENERATOR_STATS.enable_trace_lineno()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache, GENERATOR_STATS._warn_cache
    assert not GENERATOR_STATS._error_cache, GENERATOR_STATS._error_cache
    assert {"/api/clients/", "/api/clients/{id}/", "/api/orders/", "/api/orders/{id}/"} <= set(
        schema["paths"]
    )


def test_spectacular_command_validates_and_fails_on_warnings(tmp_path):
    # The same check CI can run: exits non-zero on any warning or an invalid OpenAPI document.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_schema_documents_the_fields_filters_and_ordering(api):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    client = schema["components"]["schemas"]["Client"]["properties"]
    assert client["orders_total"]["format"] == "decimal"
    assert client["avatar"]["format"] == "uri"
    params = {p["name"]: p for p in schema["paths"]["/api/clients/"]["get"]["parameters"]}
    assert {"vip", "active", "search", "ordering", "page", "page_size"} <= set(params)
    assert params["vip"]["schema"]["type"] == "boolean"
    assert "name" in params["ordering"]["schema"]["items"]["enum"]
    order_params = {p["name"] for p in schema["paths"]["/api/orders/"]["get"]["parameters"]}
    assert {"status", "client", "ordering"} <= order_params


def test_docs_page_is_served_from_our_origin(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    html = response.text
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/api/docs/?script=" in html
    assert "<style>" not in html
    assert "<script>" not in html  # no inline script: the init script is a separate file
    script = api.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.text
