"""Every file the program writes is readable by its owner only (0600), and the program's
own folders (data, logs, temporary files) are 0700: letters, exports, bank files and
reports hold names, addresses and amounts."""

from __future__ import annotations

import logging
import os
import stat
import sys

import pytest

from app.core import files, logs
from app.core.paths import user_data_dir
from app.exports import dashboard_pdf, reconcile_pdf
from app.letters import LetterKind
from app.services import audit_log, dashboard, reconcile
from app.services import letters as svc
from app.services.audit_log import AuditFilter
from app.services.import_errors import RefusedRowsFile
from app.services.intake import take_phone_intake
from app.services.letters import BatchRequest
from tests.conftest import step_up_code
from tests.services.helpers import incident, victim

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def quiet_root():
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
            handler.close()


def test_data_and_log_folders_and_the_log_are_owner_only_even_if_made_open(tmp_path,
                                                                           monkeypatch,
                                                                           quiet_root):
    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    (data / "logs" / "hosho.log").write_text("an older version's line\n")
    for path, old in ((data, 0o755), (data / "logs", 0o755), (data / "logs" / "hosho.log", 0o644)):
        os.chmod(path, old)
    monkeypatch.setenv("HOSHO_DATA_DIR", str(data))
    log_path = logs.setup_logging(user_data_dir() / "logs")
    logging.getLogger("hosho.test").warning("a line")
    assert (mode(data), mode(data / "logs"), mode(log_path)) == (0o700, 0o700, 0o600)
    assert "a line" in log_path.read_text()


def test_a_fresh_log_and_its_rotations_are_owner_only(tmp_path, quiet_root):
    log_path = logs.setup_logging(tmp_path / "fresh" / "logs")
    handler = next(h for h in logging.getLogger().handlers
                   if getattr(h, "baseFilename", None) == str(log_path))
    logging.getLogger("hosho.test").warning("before")
    handler.doRollover()
    logging.getLogger("hosho.test").warning("after")
    assert mode(tmp_path / "fresh" / "logs") == 0o700
    assert {p.name: mode(p) for p in log_path.parent.iterdir()} == {
        "hosho.log": 0o600, "hosho.log.1": 0o600}


def _cases(ctx, staff, n=2):
    return [take_phone_intake(ctx, staff["op1"], victim(name=f"佐藤 {i}"), incident())
            for i in range(n)]


def test_letters_batch_per_case_and_alignment_sheet_are_owner_only(ctx, staff, tmp_path):
    made = _cases(ctx, staff)
    request = BatchRequest(LetterKind.GUIDANCE, case_ids=tuple(c.id for c in made))
    out = tmp_path / "batch.pdf"
    svc.produce_batch(ctx, staff["op1"], request, out)
    per_case = tmp_path / "new" / "letters"
    summary = svc.produce_batch(ctx, staff["op1"], request, tmp_path / "unused.pdf",
                                per_case_dir=per_case)
    sheet = svc.alignment_sheet(ctx, tmp_path / "align.pdf")
    assert mode(out) == 0o600 and mode(sheet) == 0o600
    assert [mode(x.path) for x in summary.letters] == [0o600, 0o600]
    assert mode(per_case) == mode(per_case.parent) == 0o700  # folders the program made


def test_reports_exports_and_refused_rows_are_owner_only(ctx, staff, tmp_path):
    _cases(ctx, staff, 1)
    board = dashboard.dashboard(ctx)
    report = reconcile.reconcile(ctx)
    folder = tmp_path / "out"
    folder.mkdir()
    written = [folder / name for name in ("dash.csv", "dash.pdf", "rec.csv", "rec.pdf",
                                            "refused.csv", "trail.csv")]
    dashboard.write_csv(board, written[0])
    dashboard_pdf.write_pdf(board, written[1])
    reconcile.write_csv(report, written[2])
    reconcile_pdf.write_pdf(report, written[3])
    with RefusedRowsFile(written[4], ["name"]):
        pass
    audit_log.export_events(ctx, staff["sv1"], written[5], AuditFilter(),
                            second_factor=step_up_code(ctx, staff["sv1"]))
    assert {p.name: mode(p) for p in written} == {p.name: 0o600 for p in written}
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in written)


def test_the_database_and_its_journal_files_are_owner_only(tmp_path, sqlite_template):
    from app.services.context import AppContext
    from app.storage.db import Database

    path = tmp_path / "new-folder" / "hosho.sqlite3"
    path.parent.mkdir(mode=0o700)
    path.write_bytes(sqlite_template.read_bytes())
    os.chmod(path, 0o644)
    db = Database(str(path))
    take_phone_intake(AppContext(db), _system(), victim(), incident())
    present = [p for p in (path, path.with_name(path.name + "-wal"),
                           path.with_name(path.name + "-shm")) if p.exists()]
    modes = [mode(p) for p in present]
    db.dispose()
    assert len(present) >= 2
    assert modes == [0o600] * len(present)


def _system():
    from app.domain.roles import SYSTEM_ACTOR

    return SYSTEM_ACTOR


def test_the_temporary_folder_and_journal_are_owner_only(tmp_path):
    with files.Staging() as staging:
        temp = staging.new(tmp_path / "out.pdf")
        journals = list(files.temporary_folder().iterdir())
        assert mode(files.temporary_folder()) == 0o700
        assert [mode(j) for j in journals] == [0o600] and mode(temp) == 0o600
    assert list(files.temporary_folder().iterdir()) == [] and not temp.exists()
