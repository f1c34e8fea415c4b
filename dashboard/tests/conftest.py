# The API's callers (a guest, a manager, a Viewers token), as api/tests use them.
from api.tests.conftest import api, member_api, reader_api  # noqa: F401
