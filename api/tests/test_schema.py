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


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_declares_its_security_and_error_answers(api):
    schema = api.get("/api/schema/?format=json").json()
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}
    seen = 0
    for path, method, operation in operations(schema):
        seen += 1
        where = f"{method.upper()} {path}"
        # Token or session; no anonymous access by default.
        assert operation["security"] == [{"tokenAuth": []}, {"cookieAuth": []}], where
        codes = set(operation["responses"])
        assert {"401", "403", "429"} <= codes, where
        takes_input = "requestBody" in operation or any(
            p["in"] == "query" for p in operation.get("parameters", [])
        )
        assert ("400" in codes) == takes_input, where
        if "{id}" in path:
            assert "404" in codes, where
        if "requestBody" in operation:
            assert "415" in codes, where
        for code in ("400", "401", "403", "404", "429"):
            if code in codes:
                assert "application/json" in operation["responses"][code]["content"], where
        assert "Retry-After" in operation["responses"]["429"]["headers"], where
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"], where
    # clients and orders: list, create, read, put, patch, delete; the merge; the stats; the
    # imports: clients and orders uploaded, one read, revert, cancel; notes and tasks: list,
    # create, read, put, patch, delete; a client's history; the restore from the trash
    assert seen == 33


def test_list_and_detail_operations_declare_404(api):
    paths = api.get("/api/schema/?format=json").json()["paths"]
    assert "404" in paths["/api/clients/"]["get"]["responses"]  # a page that does not exist
    assert "404" in paths["/api/orders/{id}/"]["delete"]["responses"]
    assert "404" in paths["/api/clients/{id}/merge/"]["post"]["responses"]
    assert "404" not in paths["/api/clients/"]["post"]["responses"]


def test_with_public_reads_the_schema_says_reads_need_no_credentials(api, settings):
    settings.API_PUBLIC_READ = True
    schema = api.get("/api/schema/?format=json").json()
    for path, method, operation in operations(schema):
        anonymous = {} in operation["security"]
        # Notes, tasks and the history are never public (timeline/api.py, api/history.py).
        never_public = path.startswith(("/api/notes/", "/api/tasks/")) or path.endswith("/history/")
        assert anonymous == (method == "get" and not never_public), f"{method} {path}"


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda api: api.get("/api/clients/?vip=maybe"), 400),
        (lambda api: api.get("/api/clients/?page=99"), 404),
        (lambda api: api.get("/api/orders/999999/"), 404),
        (lambda api: api.post("/api/clients/", "x", content_type="text/plain"), 415),
    ],
)
def test_declared_error_bodies_match_what_the_api_answers(staff_api, call, status):
    response = call(staff_api)
    assert response.status_code == status
    body = response.json()
    if status == 400:  # ValidationError: each field with its messages
        assert all(
            isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body.values()
        )
    else:  # Error
        assert isinstance(body["detail"], str)
