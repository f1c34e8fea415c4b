"""Production logs are one JSON object per line on stdout."""

import json
import logging
import sys
from decimal import Decimal

from core.logging import JsonFormatter
from core.tests.support import PRODUCTION_ENV, manage


def _record(msg="order %s saved", args=(7,), **kwargs):
    return logging.LogRecord("clients.services", logging.INFO, __file__, 1, msg, args, **kwargs)


def test_a_record_is_one_line_of_json_with_time_level_logger_and_message():
    line = JsonFormatter().format(_record(exc_info=None))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "clients.services"
    assert entry["message"] == "order 7 saved"
    assert entry["time"].endswith("+00:00")


def test_the_traceback_stays_inside_the_one_line():
    try:
        raise ValueError("bad amount")
    except ValueError:
        record = _record(exc_info=sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: bad amount" in json.loads(line)["exc"]


def test_extra_fields_are_kept_and_unserialisable_values_become_text():
    record = _record(exc_info=None)
    record.order_id = 7
    record.amount = Decimal("12.50")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["order_id"] == 7
    assert entry["amount"] == "12.50"
    assert "args" not in entry
    assert "pathname" not in entry


def test_uvicorns_terminal_colour_copy_of_the_message_is_dropped():
    record = _record(exc_info=None)
    record.color_message = "order \x1b[36m%s\x1b[0m saved"
    assert "color_message" not in json.loads(JsonFormatter().format(record))


def test_production_logs_json_lines_to_stdout():
    result = manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('mini_crm.probe').warning('probe %s', 42)",
        env_overrides=PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "mini_crm.probe" in line]
    assert len(lines) == 1, result.stdout
    entry = json.loads(lines[0])
    assert entry == {**entry, "level": "WARNING", "logger": "mini_crm.probe", "message": "probe 42"}


def test_development_keeps_readable_lines():
    result = manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('mini_crm.probe').warning('probe')",
        env_overrides={"DJANGO_DEBUG": "1", "DJANGO_DEBUG_TOOLBAR": "0"},
    )
    line = next(line for line in result.stdout.splitlines() if "mini_crm.probe" in line)
    assert line.endswith("WARNING mini_crm.probe probe")


def test_an_unknown_log_format_is_an_error():
    result = manage("check", env_overrides={**PRODUCTION_ENV, "LOG_FORMAT": "xml"})
    assert result.returncode != 0
    assert "LOG_FORMAT='xml': use json or line." in result.stderr
