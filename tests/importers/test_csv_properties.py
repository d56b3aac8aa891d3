"""Property: whatever the cells, reading a file ends in a whole-file refusal the contract
asks for, or in one outcome per non-blank row; never in another exception."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.clock import JST
from app.importers.fields import EARLIEST_DAY
from app.importers.incident_csv import FileRefused, read_incidents
from app.importers.limits import MAX_CHARS
from tests.importers.hostile import explains_refusal, file_bytes, hostile_row, non_blank

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=JST)


def read_all(data: bytes) -> list:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hostile.csv"
        path.write_bytes(data)
        return list(read_incidents(path, now=NOW))


def check_record(record) -> None:
    for name, limit in MAX_CHARS.items():
        value = getattr(record, name)
        assert value is None or len(value) <= limit, name
    assert EARLIEST_DAY <= record.occurred_at.astimezone(JST).date() <= NOW.date()
    assert 0 < record.amount <= 1_000_000
    assert record.phone_digits is None or record.phone_digits.isascii()


@pytest.mark.slow
@settings(max_examples=120, deadline=None)
@given(rows=st.lists(hostile_row(), max_size=12),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932"]))
def test_every_row_of_any_file_is_read_or_the_file_refused(rows, encoding):
    data = file_bytes(rows, encoding)
    try:
        parsed = read_all(data)
    except FileRefused as refused:
        assert encoding == "cp932" or explains_refusal(rows, data), refused
        assert refused.ja and refused.en
        return
    assert len(parsed) == non_blank(rows)
    for row in parsed:
        assert row.ok != bool(row.errors)
        if row.ok:
            check_record(row.record)
        for error in row.errors:
            assert error.ja and error.en


@settings(max_examples=200, deadline=None)
@given(cell=st.text(max_size=60), field=st.sampled_from(list(range(16))))
def test_any_single_cell_rejects_at_most_its_row(cell, field):
    cells = ["P1", "", "山田 太郎", "", "090-1234-5678", "", "", "", "nanaco", "2019/07/03",
             "1000", "", "", "", "", ""]
    cells[field] = cell
    data = file_bytes([cells], "utf-8")
    try:
        parsed = read_all(data)
    except FileRefused:
        assert "\x00" in cell
        return
    assert len(parsed) == non_blank([cells])
    for row in parsed:
        assert row.ok or {e.field for e in row.errors} <= {
            ["report_id", "member_id", "name", "name_kana", "phone", "email", "postal_code",
             "address", "channel", "occurred_at", "amount", "card_issuer", "card_last4",
             "contact_received_at", "merchant", "note"][field], "phone/email", ""}
