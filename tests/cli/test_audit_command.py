"""`hosho audit verify` and `hosho audit export` on the 808-victim demo."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import time

import pytest

from tests.cli.test_command import hosho


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("audit") / "demo.sqlite3")
    made = hosho("demo", "--db", db)
    assert made.returncode == 0, made.stderr
    return db


def test_verify_says_intact_with_the_count(demo_db):
    started = time.perf_counter()
    shown = hosho("audit", "verify", "--json", "--db", demo_db)
    elapsed = time.perf_counter() - started
    assert shown.returncode == 0, shown.stdout + shown.stderr
    report = json.loads(shown.stdout)
    with sqlite3.connect(demo_db) as conn:
        events = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    assert report["intact"] is True
    assert report["count"] == events > 808
    print(f"verify of {events:,} events, process included: {elapsed:.2f}s")
    plain = hosho("audit", "verify", "--db", demo_db)
    assert plain.returncode == 0 and f"{events:,}" in plain.stdout


def test_verify_fails_at_the_first_edited_event(demo_db, tmp_path):
    copy = tmp_path / "tampered.sqlite3"
    shutil.copy(demo_db, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TRIGGER audit_event_no_update")
        conn.execute("UPDATE audit_event SET actor_login = 'nobody' WHERE seq IN (500, 900)")
    shown = hosho("audit", "verify", "--db", str(copy))
    assert shown.returncode == 1
    assert "seq 500" in shown.stdout and "altered" in shown.stdout
    report = json.loads(hosho("audit", "verify", "--json", "--db", str(copy)).stdout)
    assert report["intact"] is False and report["broken_seq"] == 500 and report["count"] == 499


def test_export_one_case_as_csv_for_an_auditor(demo_db, tmp_path):
    with sqlite3.connect(demo_db) as conn:
        number, events = conn.execute(
            "SELECT c.case_number, count(*) FROM audit_event e JOIN case_file c "
            "ON c.id = e.case_id GROUP BY c.case_number ORDER BY count(*) DESC").fetchone()
        exports_before = conn.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'audit.export'").fetchone()[0]
    out = tmp_path / "trail.csv"
    shown = hosho("audit", "export", "--out", str(out), "--case", number, "--db", demo_db)
    assert shown.returncode == 0, shown.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][0] == "seq" and len(rows) == events + 1
    assert {r[6] for r in rows[1:]} == {number}
    with sqlite3.connect(demo_db) as conn:
        exports_after = conn.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'audit.export'").fetchone()[0]
    assert exports_after == exports_before + 1
    assert hosho("audit", "verify", "--db", demo_db).returncode == 0


def test_export_refuses_a_bad_date(demo_db, tmp_path):
    shown = hosho("audit", "export", "--out", str(tmp_path / "x.csv"), "--from", "2019/08/01",
                  "--db", demo_db)
    assert shown.returncode != 0
    assert "YYYY-MM-DD" in shown.stderr + shown.stdout


# -- checkpoints ------------------------------------------------------------------------------
def _copy(demo_db, tmp_path, name="copy.sqlite3") -> str:
    copy = tmp_path / name
    shutil.copy(demo_db, copy)
    return str(copy)


def _cut_end_and_move_head_back(db: str, keep: int) -> None:
    """What someone with the file and a text editor's patience does: cut the last events,
    move the head back onto the new end, and put the triggers back as they were."""
    with sqlite3.connect(db) as conn:
        triggers = [row[0] for row in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")]
        conn.execute("DROP TRIGGER audit_event_no_delete")
        conn.execute("DROP TRIGGER audit_event_no_update")
        conn.execute("DELETE FROM audit_event WHERE seq > ?", (keep,))
        (digest,) = conn.execute("SELECT hash FROM audit_event WHERE seq = ?", (keep,)).fetchone()
        conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (keep, digest))
        for statement in triggers:
            conn.execute(statement)


def test_keygen_writes_an_owner_only_key_and_its_public_half(tmp_path):
    key = tmp_path / "audit.key"
    shown = hosho("audit", "keygen", "--out", str(key))
    assert shown.returncode == 0, shown.stderr
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / "audit.key.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert "SHA256:" in shown.stdout
    again = hosho("audit", "keygen", "--out", str(key))
    assert again.returncode == 2 and "never overwritten" in again.stderr


def test_a_signed_checkpoint_catches_the_end_cut_off_with_the_head_moved_back(demo_db,
                                                                               tmp_path):
    db = _copy(demo_db, tmp_path)
    key = tmp_path / "audit.key"
    assert hosho("audit", "keygen", "--out", str(key)).returncode == 0
    checkpoint = tmp_path / "checkpoint.json"
    taken = hosho("audit", "checkpoint", "--out", str(checkpoint), "--db", db,
                  env_extra={"HOSHO_AUDIT_KEY": str(key)})
    assert taken.returncode == 0, taken.stderr
    data = json.loads(checkpoint.read_text())
    assert data["signature"]["key"] in taken.stdout and f"seq {data['seq']:,}" in taken.stdout
    public = ["--public-key", f"{key}.pub"]
    held = hosho("audit", "verify", "--against", str(checkpoint), *public, "--db", db)
    assert held.returncode == 0, held.stdout + held.stderr
    assert "the chain extends checkpoint" in held.stdout and "を含んでいます" in held.stdout

    _cut_end_and_move_head_back(db, data["seq"] - 10)
    assert hosho("audit", "verify", "--db", db).returncode == 0  # the chain alone looks whole
    caught = hosho("audit", "verify", "--against", str(checkpoint), *public, "--db", db)
    assert caught.returncode == 1
    assert "does not extend every checkpoint" in caught.stdout.splitlines()[0]
    line = next(x for x in caught.stdout.splitlines() if "does not hold" in x)
    assert "checkpoint.json" in line and f"seq {data['seq']:,}" in line
    assert "cut off the end" in line and "末尾の記録が削除され" in line
    report = json.loads(hosho("audit", "verify", "--json", "--against", str(checkpoint),
                              *public, "--db", db).stdout)
    assert report["intact"] is True and report["ok"] is False
    assert report["checkpoints"][0]["holds"] is False


def test_checkpoint_without_a_key_is_unsigned_and_says_so(demo_db, tmp_path):
    db = _copy(demo_db, tmp_path)
    checkpoint = tmp_path / "cp.json"
    taken = hosho("audit", "checkpoint", "--out", str(checkpoint), "--db", db)
    assert taken.returncode == 0, taken.stderr
    assert "unsigned" in taken.stdout and "HOSHO_AUDIT_KEY" in taken.stdout
    assert "signature" not in json.loads(checkpoint.read_text())
    printed = hosho("audit", "checkpoint", "--db", db)  # no --out: the JSON on stdout
    assert printed.returncode == 0
    assert json.loads(printed.stdout)["seq"] > json.loads(checkpoint.read_text())["seq"]


def test_a_checkpoint_copied_from_paper_is_held_against_the_chain(demo_db, tmp_path):
    db = _copy(demo_db, tmp_path)
    with sqlite3.connect(db) as conn:
        seq, digest = conn.execute("SELECT seq, hash FROM audit_head").fetchone()
    typed = f"{seq}:{digest}"
    assert hosho("audit", "verify", "--against", typed, "--db", db).returncode == 0
    _cut_end_and_move_head_back(db, seq - 1)
    caught = hosho("audit", "verify", "--against", typed, "--db", db)
    assert caught.returncode == 1 and "cut off the end" in caught.stdout
    wrong = hosho("audit", "verify", "--against", "12:zz", "--db", db)
    assert wrong.returncode == 2 and "12:zz" in wrong.stderr


def test_the_management_pdf_carries_the_current_checkpoint(demo_db, tmp_path):
    from pypdf import PdfReader

    db = _copy(demo_db, tmp_path)
    key = tmp_path / "audit.key"
    made = hosho("audit", "keygen", "--out", str(key))
    fingerprint = next(w for w in made.stdout.split() if w.startswith("SHA256:"))
    pdf = tmp_path / "report.pdf"
    shown = hosho("dashboard", "--pdf", str(pdf), "--db", db,
                  env_extra={"HOSHO_AUDIT_KEY": str(key)})
    assert shown.returncode == 0, shown.stderr
    with sqlite3.connect(db) as conn:
        seq, digest = conn.execute("SELECT seq, hash FROM audit_head").fetchone()
    page = PdfReader(str(pdf)).pages[0].extract_text()
    assert f"{seq:,}" in page and digest in page.replace("\n", "")
    assert fingerprint in page
    # What the page says can be typed back in and held against the chain.
    assert hosho("audit", "verify", "--against", f"{seq}:{digest}", "--db", db).returncode == 0
