"""The `hosho` command as an administrator uses it: real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def hosho(*args: str, env_extra: dict | None = None, stdin: str | None = None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "app.main", *args], capture_output=True,
                          text=True, env=env, input=stdin, timeout=120)


def test_demo_then_stats_shows_public_figures(tmp_path):
    db = str(tmp_path / "demo.sqlite3")
    made = hosho("demo", "--db", db)
    assert made.returncode == 0, made.stderr
    assert "hosho-demo-2019" in made.stdout and "sato" in made.stdout
    shown = hosho("stats", "--db", db, "--json")
    figures = json.loads(shown.stdout)
    assert figures["victims"] == 808
    assert figures["claimed_total"] == 38_615_473
    assert set(figures["claimed_by_channel"]) == {
        "credit_charge", "debit_charge", "nanaco_charge", "unauthorized_use"}
    assert figures["paid_total"] > 0 and figures["incidents"] >= figures["cases"]


def test_db_from_environment_variable(tmp_path):
    db = str(tmp_path / "env.sqlite3")
    assert hosho("demo", "--victims", "20", env_extra={"HOSHO_DB": db}).returncode == 0
    shown = hosho("stats", "--json", env_extra={"HOSHO_DB": db})
    assert json.loads(shown.stdout)["victims"] == 20


def test_operator_add_and_list(tmp_path):
    db = str(tmp_path / "ops.sqlite3")
    added = hosho("operator", "add", "suzuki", "--role", "supervisor", "--name", "鈴木 一郎",
                  "--password-stdin", "--db", db, stdin="a long enough secret\n")
    assert added.returncode == 0, added.stderr
    listed = hosho("operator", "list", "--json", "--db", db)
    assert json.loads(listed.stdout) == [
        {"login": "suzuki", "name": "鈴木 一郎", "role": "supervisor", "active": True}]


@pytest.mark.parametrize(("args", "needle"), [
    (("stats", "--db", "/nonexistent/x.sqlite3"), "No database"),
    (("demo", "--victims", "0"), "between 1 and 1,000,000"),
])
def test_errors_are_one_clear_line_and_nonzero(tmp_path, args, needle):
    result = hosho(*args, env_extra={"HOSHO_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_short_password_refused(tmp_path):
    result = hosho("operator", "add", "x", "--role", "operator", "--password-stdin",
                   "--db", str(tmp_path / "o.sqlite3"), stdin="short\n")
    assert result.returncode == 2 and "12" in result.stderr


def test_db_upgrade_reports_current(tmp_path):
    db = str(tmp_path / "u.sqlite3")
    hosho("demo", "--victims", "5", "--db", db)
    result = hosho("db", "upgrade", "--db", db)
    assert result.returncode == 0 and migrate_head() in result.stdout


def test_import_csv_json_errors_file_and_exit_codes(tmp_path):
    db = str(tmp_path / "imp.sqlite3")
    hosho("demo", "--victims", "5", "--db", db)
    source = tmp_path / "list.csv"
    source.write_text(
        "受付番号,氏名,電話番号,被害区分,発生日時,被害金額,謎\n"
        "T1,山田 太郎,090-1111-2222,nanaco,2019/7/3,\"1,000円\",x\n"
        "T2,=cmd|' /C calc'!A0,090-1111-2222,nanaco,2019/02/30,5,x\n", encoding="utf-8")
    errors = tmp_path / "errors.csv"
    dry = hosho("import-csv", str(source), "--db", db, "--json", "--dry-run")
    assert json.loads(dry.stdout)["accepted"] == 1
    done = hosho("import-csv", str(source), "--db", db, "--json", "--errors", str(errors))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for key in ("read", "accepted", "duplicate", "conflict", "rejected", "victims_created",
                "cases_created", "amount_accepted_by_channel", "unknown_columns"):
        assert key in result
    assert (result["read"], result["accepted"], result["rejected"]) == (2, 1, 1)
    assert result["amount_accepted_by_channel"]["nanaco_charge"] == 1000
    assert result["unknown_columns"] == ["謎"]
    text = errors.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    assert "'=cmd" in text.decode("utf-8-sig") and "\n3," in text.decode("utf-8-sig")
    again = json.loads(hosho("import-csv", str(source), "--db", db, "--json").stdout)
    assert again["accepted"] == 0 and again["duplicate"] == 1
    mapped = tmp_path / "mapped.csv"
    mapped.write_text("No,お客様名,電話,区分,日付,金額\nM1,佐藤 一,0311112222,debit,2019/7/1,10\n",
                      encoding="utf-8")
    result = hosho("import-csv", str(mapped), "--db", db, "--json", "--map", "No=report_id",
                   "--map", "お客様名=name", "--map", "電話=phone", "--map", "区分=channel",
                   "--map", "日付=occurred_at", "--map", "金額=amount")
    assert json.loads(result.stdout)["accepted"] == 1, result.stderr
    workbook = tmp_path / "book.xlsx"
    workbook.write_bytes(b"PK\x03\x04rest")
    refused = hosho("import-csv", str(workbook), "--db", db)
    assert refused.returncode == 2 and "CSV" in refused.stderr


def migrate_head() -> str:
    from app.storage.migrate import head_revision

    return head_revision()
