"""The error answers of every API operation, added to the generated schema (a drf-spectacular
postprocessing hook, SPECTACULAR_SETTINGS): a client generated from the schema, or a fuzzer
checking answers against it, then knows every status code the API can give.

Each is declared where it can occur, judged from the operation itself, so a new endpoint gets
the right ones without a decorator: 401/403/429 everywhere (no or a bad token; no permission;
throttled), 400 where there is input (a body or query parameters), 404 where there is an id in
the path or a page number, 415 where there is a body.

With API_PUBLIC_READ every read is also declared callable without credentials, except the
operations marked NEVER_PUBLIC (`@extend_schema(extensions=NEVER_PUBLIC)`): notes, tasks and a
client's history, which that setting does not open.
"""

from django.conf import settings

# The operation's reads stay private whatever API_PUBLIC_READ says; the marker is removed from
# the published schema.
NEVER_PUBLIC_KEY = "x-never-public"
NEVER_PUBLIC = {NEVER_PUBLIC_KEY: True}
ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}
SCHEMAS = {
    "Error": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ValidationError": {
        "type": "object",
        "description": (
            "Each field (or `non_field_errors`) with its messages; `detail` alone when the "
            "request could not be read (malformed JSON)."
        ),
        "properties": {"detail": {"type": "string"}},
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
}
HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": "`Token`: send `Authorization: Token <key>`.",
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds until the rate allows another request.",
            "schema": {"type": "integer"},
        }
    },
}
DESCRIPTIONS = {
    "400": "Invalid input: a field, filter, ordering or page size.",
    "401": "No credentials, or a token that is not (or no longer) valid.",
    "403": "Authenticated, but not allowed: no permission for this action (or no CSRF token).",
    "404": "No such object, or no such page.",
    "415": "The body is not JSON, form data or multipart.",
    "429": "Too many requests: throttled.",
}


def error_codes(path: str, operation: dict) -> list[str]:
    locations = {parameter["in"] for parameter in operation.get("parameters", [])}
    query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    has_body = "requestBody" in operation
    codes = ["401", "403", "429"]
    if has_body or "query" in locations:
        codes.append("400")
    if "{" in path or "page" in query:
        codes.append("404")
    if has_body:
        codes.append("415")
    return sorted(codes)


def declare_errors_and_public_reads(result, generator, request, public):
    """POSTPROCESSING_HOOKS: `result` is the whole schema; returned with the errors added."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in error_codes(path, operation):
                content = VALIDATION_ERROR if code == "400" else ERROR
                responses.setdefault(
                    code,
                    {
                        "description": DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": content}},
                        **({"headers": HEADERS[code]} if code in HEADERS else {}),
                    },
                )
            # Anonymous reads, when opted into, are one more way to call a read: no security.
            security = operation.setdefault("security", [])
            if operation.pop(NEVER_PUBLIC_KEY, False):
                continue
            if method == "get" and settings.API_PUBLIC_READ and {} not in security:
                security.append({})
    return result
