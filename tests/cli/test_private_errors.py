"""A database error never carries personal data to stderr, the window or the log.

The driver's message (PostgreSQL's "Failing row contains (...)", "Key (...)=(...)") and
SQLAlchemy's echo of the statement's parameters hold other people's names, kana,
e-mail, addresses and postal codes. What the program shows and logs instead: the
exception's class, the SQLSTATE or SQLite error code, and a reference number that
matches the log line.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from app.core import logs
from app.core.i18n import error_text
from app.storage.models import Victim

PERSONAL = ["漏洩太郎", "ロウエイタロウ", "leak.person@example.jp", "東京都港区秘密町1-2-3",
            "1057777", "秘密花子", "himitsu.hanako@example.jp"]
NOW = datetime(2019, 8, 20, 1, 0, tzinfo=UTC)


def victim_rows(kind: str) -> list[dict]:
    """Three victims in one executemany; the last one makes the database refuse it."""
    rows = [dict(name=name, name_kana=kana, name_key=name, kana_key=kana, email=email,
                 email_key=email, phone_digits="", postal_code="1057777",
                 address="東京都港区秘密町1-2-3",
                 created_at=NOW, updated_at=NOW)
            for name, kana, email in [("漏洩太郎", "ロウエイタロウ", "leak.person@example.jp"),
                                      ("秘密花子", "ヒミツハナコ", "himitsu.hanako@example.jp"),
                                      ("秘密花子", "ヒミツハナコ", "himitsu.hanako@example.jp")]]
    if kind == "integrity":
        rows[-1]["name"] = None  # NOT NULL: PostgreSQL echoes the whole failing row
    else:
        rows[-1]["name"] = "秘密花子" * 60  # over 200 characters: DataError on PostgreSQL
    return rows


SCRIPT = """
import sys
from sqlalchemy import insert
import app.services.stats as stats
from app.storage.models import Victim
from tests.cli.test_private_errors import victim_rows

def failing_stats(ctx):
    with ctx.db.write() as session:
        session.execute(insert(Victim), victim_rows(sys.argv[1]))

failing_stats.__module__ = "app.services.stats"  # a service: the gateway names it
stats.programme_stats = failing_stats
from app.main import main
sys.exit(main(sys.argv[2:]))
"""


def _url(backend: str, tmp_path: Path, request) -> str:
    if backend == "postgresql":
        return request.getfixturevalue("pg_database")
    template = request.getfixturevalue("sqlite_template")
    path = tmp_path / "leak.sqlite3"
    path.write_bytes(template.read_bytes())
    return str(path)


CASES = [("sqlite", "integrity"), ("postgresql", "integrity"), ("postgresql", "data")]


@pytest.mark.parametrize(("backend", "kind"), CASES)
def test_a_database_error_on_the_command_line_names_no_one(tmp_path, request, backend, kind):
    url = _url(backend, tmp_path, request)
    data = tmp_path / "data"
    env = {**os.environ, "HOSHO_DATA_DIR": str(data),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run([sys.executable, "-c", SCRIPT, kind, "stats", "--db", url],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 70, result.stderr
    log_text = (data / "logs" / "hosho.log").read_text(encoding="utf-8")
    for value in PERSONAL:
        assert value not in result.stderr, value
        assert value not in log_text, value
    # One line for the user, with a reference that finds the details in the log.
    assert len(result.stderr.strip().splitlines()) == 1
    reference = re.search(r"reference ([0-9A-F]{4}-[0-9A-F]{4})", result.stderr).group(1)
    assert f"[ref {reference}]" in log_text
    expected = "IntegrityError" if kind == "integrity" else "DataError"
    assert expected in result.stderr and expected in log_text
    code = {"sqlite": "SQLITE_CONSTRAINT_NOTNULL", "postgresql": "SQLSTATE 23502"}
    assert (code[backend] if kind == "integrity" else "SQLSTATE 22001") in log_text
    assert 'File "' in log_text  # the frames are there to find the bug


def _database_error(ctx, kind: str) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught, ctx.db.write() as session:
        session.execute(insert(Victim), victim_rows(kind))
    return caught.value


@pytest.fixture
def log_file(tmp_path):
    root = logging.getLogger()
    before = list(root.handlers)
    path = logs.setup_logging(tmp_path / "logs")
    yield path
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
            handler.close()


def test_logging_a_database_error_any_way_keeps_the_values_out(ctx, log_file):
    exc = _database_error(ctx, "integrity")
    log = logging.getLogger("hosho.test")
    log.error("failed: %r", exc)
    log.error("failed: %s", exc)
    try:
        raise RuntimeError("while saving") from exc
    except RuntimeError:
        log.exception("chained")
    reference = logs.report_bug(exc)
    text = log_file.read_text(encoding="utf-8")
    for value in PERSONAL:
        assert value not in text, value
    assert f"[ref {reference}]" in text and "IntegrityError" in text


def test_the_window_shows_a_reference_not_the_database_text(ctx, log_file):
    exc = _database_error(ctx, "integrity")
    shown = error_text(exc)
    for value in PERSONAL:
        assert value not in shown, value
    assert "INSERT" not in shown
    reference = re.search(r"[0-9A-F]{4}-[0-9A-F]{4}", shown).group(0)
    assert error_text(exc) == shown  # asked twice, one reference, one log entry
    text = log_file.read_text(encoding="utf-8")
    assert text.count(f"[ref {reference}]") == 1


def test_an_uncaught_error_in_the_window_is_shown_without_its_text(ctx, log_file,
                                                                    monkeypatch, qapp):
    from PySide6.QtWidgets import QMessageBox

    from app.ui import application

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, _t, text: shown.append(text))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    application.install_excepthook()
    exc = _database_error(ctx, "integrity")
    sys.excepthook(type(exc), exc, exc.__traceback__)
    text = log_file.read_text(encoding="utf-8")
    assert len(shown) == 1
    for value in PERSONAL:
        assert value not in shown[0] and value not in text, value
    reference = re.search(r"[0-9A-F]{4}-[0-9A-F]{4}", shown[0]).group(0)
    assert f"[ref {reference}]" in text


def test_an_unreachable_server_is_an_environment_problem_naming_the_server(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "app.main", "stats", "--db",
         "postgresql+psycopg://postgres@127.0.0.1:1/hosho"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "HOSHO_DATA_DIR": str(tmp_path)})
    assert result.returncode == 3, result.stderr
    assert "Cannot reach the database" in result.stderr and "127.0.0.1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
