"""`hosho db backup` and `hosho db restore` as an administrator runs them, and a restore
drill: back up while another desk writes, restore elsewhere, check trail and figures."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_command import hosho

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import sys
from pathlib import Path
from app.domain.roles import SYSTEM_ACTOR
from app.services.context import AppContext
from app.services.intake import take_phone_intake
from app.storage.db import Database
from tests.services.helpers import incident, victim

ctx = AppContext(Database(sys.argv[1]))
stop = Path(sys.argv[2])
n = 0
while not stop.exists():
    take_phone_intake(ctx, SYSTEM_ACTOR, victim(name=f"並行 {n}"), incident())
    n += 1
    print(n, flush=True)
"""


def stats(db: Path) -> dict:
    shown = hosho("stats", "--json", "--db", str(db))
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def events(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT action, count(*) FROM audit_event GROUP BY action"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def programme(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("programme") / "source.sqlite3"
    made = hosho("demo", "--victims", "40", "--db", str(path))
    assert made.returncode == 0, made.stderr
    return path


@pytest.mark.slow
def test_restore_drill_backup_while_a_desk_writes(tmp_path, programme):
    source = tmp_path / "source.sqlite3"
    backup_api_copy(programme, source)
    before = stats(source)
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(source), str(stop)],
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        for _ in range(3):  # the other desk is writing
            assert writer.stdout.readline().strip()
        taken = hosho("db", "backup", "--out", str(tmp_path / "during.bak"), "--db", str(source))
        assert writer.stdout.readline().strip()  # and still writing afterwards
    finally:
        stop.touch()
        writer.wait(timeout=60)
    assert taken.returncode == 0, taken.stderr
    backup = tmp_path / "during.bak"
    assert mode(backup) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    # Restored elsewhere: a consistent snapshot, with every intake whole or absent.
    restored = tmp_path / "elsewhere" / "restored.sqlite3"
    done = hosho("db", "restore", str(backup), "--db", str(restored))
    assert done.returncode == 0, done.stderr
    assert hosho("audit", "verify", "--db", str(restored)).returncode == 0
    figures = stats(restored)
    added = figures["victims"] - before["victims"]
    assert 3 <= added < stats(source)["victims"] - before["victims"] + 1
    trail, made = events(restored), events(programme)
    assert trail["victim.create"] - made.get("victim.create", 0) == added
    assert figures["cases"] - before["cases"] == added == (
        trail["case.open"] - made.get("case.open", 0))

    # Once the desk has stopped, a backup restored over a database gives the same figures.
    quiet = tmp_path / "quiet.bak"
    assert hosho("db", "backup", "--out", str(quiet), "--db", str(source)).returncode == 0
    over = hosho("db", "restore", str(quiet), "--db", str(restored))
    assert over.returncode == 0, over.stderr
    assert stats(restored) == stats(source)
    assert hosho("audit", "verify", "--db", str(restored)).returncode == 0
    kept = [p for p in restored.parent.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1 and mode(kept[0]) == 0o600 and stats(kept[0]) == figures


def backup_api_copy(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _tamper(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER audit_event_no_update")
        conn.execute("UPDATE audit_event SET after = replace(after, '1', '9') "
                     "WHERE seq = (SELECT max(seq) / 2 FROM audit_event)")


def _unknown_revision(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")


def _not_a_database(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(5000))


def _foreign_database(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE other (x)")


@pytest.mark.parametrize(("spoil", "needle"), [
    (_tamper, "audit trail"),
    (_unknown_revision, "9999_future"),
    (_not_a_database, "Cannot restore"),
    (_foreign_database, "not a Hoshō Desk database"),
])
def test_a_spoiled_backup_is_refused_and_nothing_changes(tmp_path, programme, spoil, needle):
    backup = tmp_path / "spoiled.bak"
    assert hosho("db", "backup", "--out", str(backup), "--db", str(programme)).returncode == 0
    spoil(backup)
    target = tmp_path / "live.sqlite3"
    backup_api_copy(programme, target)
    before = sorted(p.name for p in tmp_path.iterdir()), digest(target)
    refused = hosho("db", "restore", str(backup), "--db", str(target))
    assert refused.returncode == 2, refused.stderr
    assert needle in refused.stderr and "Nothing was changed" in refused.stderr
    assert (sorted(p.name for p in tmp_path.iterdir()), digest(target)) == before
    fresh = tmp_path / "new" / "fresh.sqlite3"
    assert hosho("db", "restore", str(backup), "--db", str(fresh)).returncode == 2
    assert not fresh.parent.exists()


def test_a_backup_never_overwrites_and_postgresql_gets_the_pg_dump_command(tmp_path,
                                                                          programme):
    existing = tmp_path / "existing.bak"
    existing.write_bytes(b"last night's")
    again = hosho("db", "backup", "--out", str(existing), "--db", str(programme))
    assert again.returncode == 2 and existing.read_bytes() == b"last night's"
    pg = hosho("db", "backup", "--out", "hosho.dump",
               "--db", "postgresql://hosho:secret@db.invalid/hosho")
    assert pg.returncode == 2
    assert "pg_dump --format=custom --file=hosho.dump" in pg.stderr
    assert "pg_restore" in pg.stderr and "secret" not in pg.stderr
