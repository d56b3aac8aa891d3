"""CSV that opens safely in Excel: UTF-8 with BOM, formulas neutralised.

A cell that starts with = + - @ tab or CR is a formula to Excel (CSV
injection): it gets a leading apostrophe. Real numbers stay numbers, so that
a negative amount like -500 is not mangled.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from app.core.files import written_into_place

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_TRIGGERS) and not _NUMBER.match(text):
        return "'" + text
    return text


class SafeCsvWriter:
    def __init__(self, handle: TextIO) -> None:
        self._writer = csv.writer(handle, lineterminator="\r\n")

    def row(self, values: Iterable[object]) -> None:
        self._writer.writerow([neutralise(v) for v in values])


@contextmanager
def open_safe_csv(path: str | Path) -> Iterator[SafeCsvWriter]:
    """Write to an owner-only temporary file beside ``path``, moved into place only when
    complete (app.core.files.written_into_place)."""
    with written_into_place(path) as temp, temp.open("w", encoding="utf-8-sig",
                                                    newline="") as handle:
        yield SafeCsvWriter(handle)
