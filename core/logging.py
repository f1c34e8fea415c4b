"""Structured logs: one JSON object per line on stdout, for the log collector to parse.

The process manager (Docker, honcho, systemd) captures stdout; a collector (Loki, CloudWatch,
journald) can then filter on `level` or `logger` without regular expressions.
"""

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# uvicorn adds a copy of each message with terminal colours: noise in a log collector.
_DROPPED = frozenset({"color_message"})


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON: time (UTC, ISO 8601), level, logger, message,
    the exception's traceback when there is one, and the `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in _DROPPED and key not in entry:
                entry[key] = value
        # default=str: a request object or a Decimal in `extra=` must not break logging.
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(*, log_format: str, level: str) -> dict:
    """settings.LOGGING: every record on one line of stdout, for the process manager to collect,
    as JSON ("json", JsonFormatter) or readable text ("line")."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "core.logging.JsonFormatter"},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": log_format,
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {"axes": {"level": "WARNING"}},
    }
