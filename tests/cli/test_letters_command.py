"""`hosho letters` as an administrator scripts it: real processes, real files."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from tests.cli.test_command import hosho


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("letters") / "demo.sqlite3")
    made = hosho("demo", "--victims", "40", "--db", db)
    assert made.returncode == 0, made.stderr
    return db


def test_guidance_batch_json_then_mark_mailed_and_find(demo_db, tmp_path):
    out = tmp_path / "guidance.pdf"
    made = hosho("letters", "guidance", "--channel", "nanaco_charge", "--limit", "3",
                 "--out", str(out), "--json", "--db", demo_db)
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert result["out"] == str(out) and result["letters"] == len(result["produced"]) > 0
    assert result["pages"] == len(PdfReader(str(out)).pages) and result["refused"] == []
    first = result["produced"][0]
    found = hosho("letters", "find", first["code"].lower().replace("-", ""), "--json",
                  "--db", demo_db)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["case_number"] == first["case_number"]
    mailed = hosho("letters", "mark-mailed", str(result["batch_id"]), "--json", "--db", demo_db)
    assert mailed.returncode == 0, mailed.stderr
    moved = json.loads(mailed.stdout)["moved"]
    assert {m["case_number"] for m in moved} == {p["case_number"] for p in result["produced"]}
    assert all(m["to"] == "contacted" for m in moved)
    again = hosho("letters", "mark-mailed", str(result["batch_id"]), "--db", demo_db)
    assert again.returncode == 2 and "already" in again.stderr


def test_per_case_files_and_bad_case_number(demo_db, tmp_path):
    listed = hosho("letters", "guidance", "--limit", "2", "--out", str(tmp_path / "x.pdf"),
                   "--per-case", str(tmp_path / "each"), "--json", "--db", demo_db)
    assert listed.returncode == 0, listed.stderr
    assert len(list((tmp_path / "each").glob("*.pdf"))) == 2
    assert not (tmp_path / "x.pdf").exists()
    bad = hosho("letters", "guidance", "--case", "H-123", "--out", str(tmp_path / "y.pdf"),
                "--db", demo_db)
    assert bad.returncode == 2 and "H-123" in bad.stderr
    unknown = hosho("letters", "find", "ZZZZ-ZZZ0", "--db", demo_db)
    assert unknown.returncode == 2


def test_alignment_sheet(demo_db, tmp_path):
    out = tmp_path / "align.pdf"
    made = hosho("letters", "alignment", "--out", str(out), "--db", demo_db)
    assert made.returncode == 0, made.stderr
    assert "位置合わせ" in PdfReader(str(out)).pages[0].extract_text()
