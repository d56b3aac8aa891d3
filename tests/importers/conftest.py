"""Helpers for the incident-file tests: files are written as bytes, as Excel would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from app.core.clock import JST

HEADER = "受付番号,氏名,フリガナ,電話番号,メールアドレス,被害区分,発生日時,被害金額"


@pytest.fixture
def now() -> datetime:
    """The import time used throughout: 2024-06-01 12:00 Japan time."""
    return datetime(2024, 6, 1, 12, 0, tzinfo=JST)


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(text, name='incidents.csv', encoding='utf-8', newline='\\r\\n') -> path.

    Lines in ``text`` are joined with ``newline`` (Excel writes CRLF); a trailing
    line end is added. ``text`` may also be bytes, written as they are.
    """

    def _write(
        text: str | bytes,
        name: str = "incidents.csv",
        encoding: str = "utf-8",
        newline: str = "\r\n",
    ) -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            body = newline.join(text.split("\n")) + newline
            path.write_bytes(body.encode(encoding))
        return path

    return _write


@pytest.fixture
def header() -> str:
    return HEADER
