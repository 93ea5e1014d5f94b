"""Structured JSON logs: one object per line, never a secret."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("laurel")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # Strawberry logs every GraphQL error, client mistakes included, with a traceback;
    # app.api.errors already logs each internal error once, with its request id.
    strawberry = logging.getLogger("strawberry.execution")
    strawberry.handlers[:] = [logging.NullHandler()]
    strawberry.propagate = False
