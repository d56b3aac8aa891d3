import csv

import pytest

from app.exports.csv_safe import neutralise, open_safe_csv


@pytest.mark.parametrize("cell", ["=SUM(A1:A2)", "+81 3", "-cmd", "@import", "\tx", "\rx",
                                  '=HYPERLINK("http://x")'])
def test_formula_cells_are_neutralised(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-500", "+12", "1000", "山田", "", "3.5"])
def test_real_numbers_and_text_stay_as_they_are(cell):
    assert neutralise(cell) == cell


def test_written_file_has_bom_and_opens_as_csv(tmp_path):
    path = tmp_path / "out.csv"
    with open_safe_csv(path) as writer:
        writer.row(["氏名", "金額"])
        writer.row(["=1+1", -500])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows == [["氏名", "金額"], ["'=1+1", "-500"]]


def test_a_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), open_safe_csv(path) as writer:
        writer.row(["a"])
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []
