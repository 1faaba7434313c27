"""One JSON object per log line (``[app] log_format = "json"`` or ``run --log-json``), for a
log collector (journald, Docker, Loki). The same redaction as the text lines applies to the
message and the traceback: no token and no phone number leaves the process."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redact(record.getMessage()),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self._redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
