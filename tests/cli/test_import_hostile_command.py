"""`hosho import-csv` on hostile files: a message and exit 2 for a file refused whole,
exit 0 with the bad rows rejected otherwise; never exit 70 (an internal error)."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.cli.test_command import hosho

HEADER = "受付番号,氏名,電話番号,被害区分,発生日時,被害金額,カード会社"


@pytest.fixture
def db(tmp_path, sqlite_template) -> str:
    path = tmp_path / "hosho.sqlite3"
    shutil.copy(sqlite_template, path)
    return str(path)


def test_a_header_of_too_many_columns_is_refused_with_its_count(tmp_path, db):
    path = tmp_path / "wide.csv"
    path.write_text(HEADER + ",x" * 250 + "\nR1,山田 太郎,090-1234-5678,nanaco,2019/07/03,100\n",
                    encoding="utf-8")
    result = hosho("import-csv", str(path), "--db", db)
    assert result.returncode == 2, result.stderr
    assert "257" in result.stderr and "200" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_50_mb_cell_is_refused_with_a_message(tmp_path, db):
    path = tmp_path / "huge.csv"
    with path.open("wb") as out:
        out.write(f"{HEADER}\nR1,山田 太郎,090-1234-5678,nanaco,2019/07/03,100,".encode())
        for _ in range(50):
            out.write(b"x" * 1_000_000)
        out.write(b"\n")
    result = hosho("import-csv", str(path), "--db", db)
    assert result.returncode == 2, result.stderr
    assert "line 2" in result.stderr and "characters" in result.stderr


def test_hostile_cells_are_rejected_rows_not_an_internal_error(tmp_path, db):
    rows = [
        "G1,山田 太郎,090-1234-5678,nanaco,2019/07/03,100,",
        "H1,佐藤 一,090-1234-5679,nanaco,2019/07/03," + "9" * 4301 + ",",
        "H2,佐藤 二,090-1234-5679,nanaco,0001-01-01,100,",
        "H3,佐藤 三,090-1234-5679,credit,2019/07/03,100," + "カ" * 101,
        "H4,佐藤 四,090-1234-5679,nanaco,2019/07/03,٣٠٠٠,",
        "R" * 65 + ",佐藤 五,090-1234-5679,nanaco,2019/07/03,100,",
    ]
    path = tmp_path / "hostile.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = hosho("import-csv", str(path), "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["accepted"], summary["rejected"]) == (6, 1, 5)
