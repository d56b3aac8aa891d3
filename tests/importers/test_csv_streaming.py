"""Memory stays flat whatever the file size: rows are streamed, never collected."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from app.importers import incident_csv
from app.importers.incident_csv import read_incidents

HEADER = "受付番号,氏名,フリガナ,電話番号,メール,郵便番号,住所,被害区分,発生日時,被害金額,備考\r\n"


def write_rows(path: Path, count: int) -> Path:
    with path.open("w", encoding="cp932", newline="") as out:
        out.write(HEADER)
        for i in range(count):
            address = '"東京都千代田区\r\n丸の内1-1"' if i % 10 == 0 else "大阪府大阪市"
            out.write(
                f"R{i:07d},㈱髙橋{i % 100},タカハシ,090-1234-{i % 10000:04d},u{i}@example.jp,"
                f'123-4567,{address},クレジット,2019/7/3 14:05,"￥1,{i % 1000:03d}",①～\r\n'
            )
    return path


def peak_while_reading(path: Path, now) -> tuple[int, int, int]:
    """(rows, rejected, peak traced bytes) for one pass that keeps nothing."""
    incidents = read_incidents(path, now=now)
    rows = rejected = 0
    tracemalloc.start()
    try:
        for row in incidents:
            rows += 1
            rejected += not row.ok
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert incidents.bytes_read == incidents.size
    return rows, rejected, peak


def test_memory_does_not_grow_with_the_file(tmp_path, now, monkeypatch):
    # Parsed values are remembered up to a cap per field; a small cap shows the rest is flat.
    monkeypatch.setattr(incident_csv, "MEMO_LIMIT", 100)
    small = peak_while_reading(write_rows(tmp_path / "small.csv", 2_000), now)
    large = peak_while_reading(write_rows(tmp_path / "large.csv", 20_000), now)
    assert small[:2] == (2_000, 0)
    assert large[:2] == (20_000, 0)
    # Ten times the rows (~3 MB of text), the same tens of kilobytes.
    assert large[2] < 256 * 1024
    assert large[2] < small[2] * 2


@pytest.mark.slow
def test_two_hundred_thousand_rows_stream_in_flat_memory(tmp_path, now, monkeypatch):
    monkeypatch.setattr(incident_csv, "MEMO_LIMIT", 100)
    path = write_rows(tmp_path / "huge.csv", 200_000)
    assert path.stat().st_size > 20_000_000
    rows, rejected, peak = peak_while_reading(path, now)
    assert (rows, rejected) == (200_000, 0)
    assert peak < 256 * 1024


def test_remembered_values_are_capped(tmp_path, now):
    """The real cap: every email differs, yet memory stops growing once the cap is reached."""
    capped = peak_while_reading(write_rows(tmp_path / "capped.csv", 3 * incident_csv.MEMO_LIMIT),
                                now)
    assert capped[:2] == (3 * incident_csv.MEMO_LIMIT, 0)
    assert capped[2] < 16 * 1024 * 1024


def test_long_cells_are_not_remembered(tmp_path, now):
    """Memory is capped in bytes too: distinct long addresses are parsed, never kept."""
    long_address = "東京都千代田区丸の内" + "一" * 980  # within the address's 1,000
    path = tmp_path / "long.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for i in range(3000):
            out.write(f"R{i:07d},山田,ヤマダ,090-1234-5678,,123-4567,{long_address}{i},"
                      f"クレジット,2019/7/3,1000,\r\n")
    rows, rejected, peak = peak_while_reading(path, now)
    assert (rows, rejected) == (3000, 0)
    assert peak < 2 * 1024 * 1024  # 3,000 addresses of 2 KB each would be 6 MB
