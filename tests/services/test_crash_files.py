"""Killed (kill -9) while producing letters: no batch file without its record, and no
hidden temporary files once the program has started again."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import func, select

from app.domain.roles import SYSTEM_ACTOR
from app.services.context import AppContext
from app.services.intake import take_phone_intake
from app.storage.db import Database
from app.storage.models import Letter, LetterBatch
from tests.services.helpers import incident, victim

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")]
ROOT = Path(__file__).resolve().parents[2]

PRODUCE = """
import sys, time
from pathlib import Path
from app.domain.roles import SYSTEM_ACTOR
from app.letters import LetterKind
from app.services import letters as svc
from app.services.context import AppContext
from app.storage.db import Database

mode, db, folder = sys.argv[1:4]
real_record = svc._record

def record(*args, **kwargs):
    print("recording", flush=True)
    if mode == "before-commit":
        time.sleep(60)
    summary = real_record(*args, **kwargs)
    print("recorded", flush=True)
    if mode == "after-commit":
        time.sleep(60)
    return summary

def progress(done, total):
    print("progress", flush=True)

svc._record = record
per_case = Path(folder) / "letters" if mode == "per-case" else None
svc.produce_batch(AppContext(Database(db)), SYSTEM_ACTOR, svc.BatchRequest(LetterKind.GUIDANCE),
                  Path(folder) / "batch.pdf", per_case_dir=per_case, progress=progress)
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def forty_cases(tmp_path_factory, sqlite_template) -> Path:
    path = tmp_path_factory.mktemp("crash") / "template.sqlite3"
    shutil.copy(sqlite_template, path)
    db = Database(str(path))
    ctx = AppContext(db)
    for n in range(40):
        take_phone_intake(ctx, SYSTEM_ACTOR, victim(name=f"佐藤 {n}"), incident())
    db.dispose()
    return path


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _kill_when(mode: str, db: Path, folder: Path, line: str, count: int = 1) -> None:
    proc = subprocess.Popen([sys.executable, "-c", PRODUCE, mode, str(db), str(folder)],
                            stdout=subprocess.PIPE, text=True, env=_env())
    seen = 0
    for said in proc.stdout:
        if said.strip() == line:
            seen += 1
            if seen == count:
                break
    assert seen == count, f"the child never said {line!r}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()


def _restart(db: Path) -> None:
    """The next start of the program (any command)."""
    result = subprocess.run([sys.executable, "-m", "app.main", "letters", "batches",
                             "--db", str(db)], capture_output=True, text=True, env=_env(),
                            timeout=120)
    assert result.returncode == 0, result.stderr


def _recorded(db: Path) -> tuple[int, int]:
    database = Database(str(db))
    with database.read() as session:
        batches = session.exec(select(func.count()).select_from(LetterBatch)).one()
        letters = session.exec(select(func.count()).select_from(Letter)).one()
    database.dispose()
    return batches, letters


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.part"))


@pytest.mark.parametrize(("mode", "line", "count"), [
    ("batch", "progress", 3),        # while drawing the letters
    ("before-commit", "recording", 1),  # drawn, the record not yet committed
])
def test_killed_before_the_record_commits_leaves_no_batch_file(tmp_path, forty_cases, mode,
                                                              line, count):
    db = tmp_path / "hosho.sqlite3"
    shutil.copy(forty_cases, db)
    _kill_when(mode, db, tmp_path, line, count)
    assert not (tmp_path / "batch.pdf").exists()
    assert _recorded(db) == (0, 0)
    _restart(db)
    assert _parts(tmp_path) == []


def test_killed_after_the_record_commits_the_file_never_exists_without_it(tmp_path,
                                                                         forty_cases):
    """The one window left, between the commit and the rename: the batch is recorded and
    its file is missing (never a file that no record knows of); the temporary is removed."""
    db = tmp_path / "hosho.sqlite3"
    shutil.copy(forty_cases, db)
    _kill_when("after-commit", db, tmp_path, "recorded")
    assert _recorded(db) == (1, 40)
    assert not (tmp_path / "batch.pdf").exists()
    _restart(db)
    assert _parts(tmp_path) == []


def test_killed_per_case_run_leaves_no_hidden_files_after_the_next_start(tmp_path,
                                                                        forty_cases):
    db = tmp_path / "hosho.sqlite3"
    shutil.copy(forty_cases, db)
    _kill_when("per-case", db, tmp_path, "progress", 10)
    assert _parts(tmp_path), "the kill should have caught temporary files on disk"
    assert list((tmp_path / "letters").glob("*.pdf")) == []
    _restart(db)
    assert _parts(tmp_path) == []
    assert _recorded(db) == (0, 0)


def test_the_next_start_leaves_a_running_programs_files_alone(tmp_path, forty_cases):
    """Another desk's program on this machine, busy with its batch, keeps its files."""
    from app.core.files import Staging, clean_stale_temporaries

    with Staging() as staging:
        temp = staging.new(tmp_path / "busy.pdf")
        assert clean_stale_temporaries() == 0
        assert temp.exists()


def test_a_file_that_cannot_be_put_in_place_after_the_record_is_kept_and_named(
        tmp_path, forty_cases, monkeypatch):
    from app.core.errors import EnvironmentProblem
    from app.core.files import Staging
    from app.letters import LetterKind
    from app.services import letters as svc

    db = tmp_path / "hosho.sqlite3"
    shutil.copy(forty_cases, db)

    def folder_gone(self, temp, target=None):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(Staging, "place", folder_gone)
    database = Database(str(db))
    with pytest.raises(EnvironmentProblem) as refused:
        svc.produce_batch(AppContext(database), SYSTEM_ACTOR,
                          svc.BatchRequest(LetterKind.GUIDANCE, limit=2), tmp_path / "b.pdf")
    database.dispose()
    kept = _parts(tmp_path)
    assert len(kept) == 1 and str(kept[0]) in refused.value.en
    assert "Letter batch 1 is recorded" in refused.value.en
    assert _recorded(db) == (1, 2)
    _restart(db)
    assert _parts(tmp_path) == kept  # named to the operator: not cleaned away
