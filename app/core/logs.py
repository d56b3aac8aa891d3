"""Logging to a file in the user data folder, with personal data kept out.

Log lines never carry names, phone numbers, addresses or account numbers:
services log ids and case numbers only, and this filter masks digit runs long
enough to be a phone or account number in case one slips through.
"""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

_LONG_DIGITS = re.compile(r"\d[\d-]{8,}\d")


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = _LONG_DIGITS.sub("[masked]", message)
        record.args = ()
        return True


def setup_logging(folder: Path, level: int = logging.INFO) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hosho.log"
    handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PersonalDataFilter())
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    return path
