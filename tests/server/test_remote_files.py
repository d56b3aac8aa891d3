"""Files and long work over the wire (#15 item 4), through a real server on loopback
(SQLite, and PostgreSQL with HOSHO_TEST_PG_URL): uploads, downloads, jobs with
progress and cancel, the size limits, another session's upload, a dropped connection."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest

from app.core.errors import NotFound, PermissionDenied, UserError, ValidationError
from app.domain.channels import Channel
from app.domain.roles import SYSTEM_ACTOR
from app.domain.states import Status
from app.letters import LetterKind
from app.server.files import MB, Limits, TooLarge
from app.services import audit_log, cases, intake, letters, payouts, settings
from app.services.audit_log import AuditFilter
from app.services.cases import MoveRequest
from app.services.gateway import FileIn, FileOut, InProcessGateway
from app.services.imports import ImportCancelled, import_incidents
from app.services.letters import BatchRequest
from app.services.payout_details import set_payout_details
from app.services.progress import Watch
from tests.conftest import approval, step_up_code
from tests.server.conftest import running_server, sign_in
from tests.services.helpers import BANK, SENDER, incident, victim
from tests.services.test_imports import HEADER, ROWS, snapshot, write

LIMIT = 2 * MB


class Reports(Watch):
    """A watch that keeps every report (the tests look at the progress)."""

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[tuple[int, int]] = []

    def report(self, done: int, total: int) -> None:
        super().report(done, total)
        self.reports.append((done, total))


@pytest.fixture
def centre(ctx, tmp_path):
    """(url, spool folder): a server with a small upload limit and its own spool."""
    spool = tmp_path / "spool"
    limits = Limits(upload_bytes=LIMIT, call_bytes=256 * 1024, spool=spool)
    with running_server(ctx, limits=limits) as url:
        yield url, spool


@pytest.fixture
def desk(ctx, staff, centre):
    made = []

    def open_desk(login: str):
        made.append(sign_in(ctx, centre[0], staff, login))
        return made[-1]

    yield open_desk
    for gateway in made:
        gateway.close()


def spooled(spool) -> list[str]:
    return sorted(str(p.relative_to(spool)) for p in spool.rglob("*") if p.is_file())


def many_rows(tmp_path, rows: int, name="many.csv"):
    lines = [f"M{i:06d},,被害者 {i},,090-{i // 10000:04d}-{i % 10000:04d},,nanaco,"
             f"2019/07/03,1000" for i in range(rows)]
    return write(tmp_path, lines, name=name)


def slow_planner(monkeypatch, chunk=20, pause=0.02):
    """The import takes a while (small chunks, a pause each): time to cancel it."""
    import app.services.imports as imports

    monkeypatch.setattr(imports, "CHUNK", chunk)
    take = imports._Planner.take

    def slowly(self, part):
        time.sleep(pause)
        return take(self, part)

    monkeypatch.setattr(imports._Planner, "take", slowly)


def test_import_uploads_reports_progress_and_equals_in_process(ctx, staff, desk, centre,
                                                               tmp_path):
    path = write(tmp_path, ROWS, name="カード会社_20190820.csv")
    dry = import_incidents(ctx, staff["op1"], path, dry_run=True)
    before = snapshot(ctx)
    watch = Reports()
    real = desk("op1").write(import_incidents, FileIn(str(path)), watch=watch)
    size = path.stat().st_size
    assert watch.reports[-1] == (size, size) and watch.value == (size, size)
    assert real.file_name == path.name and real.batch_id is not None
    assert dry.as_json() | {"batch_id": None, "dry_run": True} == \
        real.as_json() | {"batch_id": None, "dry_run": True}
    assert snapshot(ctx)["Case"] == before["Case"] + real.cases_created
    assert spooled(centre[1]) == []  # the upload is used up


def test_the_wizards_import_spools_refused_rows_back_to_the_desk(ctx, staff, desk, centre,
                                                                  tmp_path):
    from app.services.import_errors import import_spooling_refused, save_refused_rows

    op = desk("op1")
    path = write(tmp_path, ROWS)
    spool = tmp_path / "desk" / "refused-1.csv"
    summary = op.write(import_spooling_refused, FileIn(str(path)), mapping=None,
                       dry_run=False, spool=FileOut(str(spool)), header=HEADER.strip().split(","),
                       watch=Watch())
    assert summary.rejected == 2 and spool.is_file()
    assert oct(spool.stat().st_mode & 0o777) == "0o600"
    target = tmp_path / "saved" / "refused.csv"
    assert op.write(save_refused_rows, FileIn(str(spool)), FileOut(str(target)), rows=2,
                    source=path.name, batch_id=summary.batch_id) == target
    assert target.read_bytes() == spool.read_bytes()
    assert spooled(centre[1]) == []


def test_cancel_an_import_through_the_server_leaves_no_rows(ctx, staff, desk, centre, tmp_path,
                                                            monkeypatch):
    slow_planner(monkeypatch)
    path = many_rows(tmp_path, 2000)
    op = desk("op1")
    before = snapshot(ctx)
    watch, failed = Reports(), []

    def run():
        try:
            op.write(import_incidents, FileIn(str(path)), watch=watch)
        except Exception as exc:
            failed.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    total = path.stat().st_size
    deadline = time.monotonic() + 30
    while not any(0 < done < total for done, _t in watch.reports):  # the server's progress
        assert time.monotonic() < deadline and worker.is_alive()
        time.sleep(0.01)
    watch.cancel()
    worker.join(30)
    assert len(failed) == 1 and isinstance(failed[0], ImportCancelled)
    assert "変更されていません" in failed[0].ja and failed[0].en
    assert snapshot(ctx) == before
    assert spooled(centre[1]) == []


def test_a_connection_dropped_mid_upload_keeps_nothing(ctx, staff, desk, centre, tmp_path):
    op = desk("op1")
    url = urlsplit(centre[0])
    before = snapshot(ctx)
    with socket.create_connection((url.hostname, url.port)) as raw:
        raw.sendall((f"POST /files HTTP/1.1\r\nHost: {url.netloc}\r\n"
                     f"Authorization: Bearer {op.token}\r\nX-File-Name: cut.csv\r\n"
                     f"Content-Length: {MB}\r\n\r\n").encode() + b"x" * 200_000)
        deadline = time.monotonic() + 10
        while not spooled(centre[1]):  # the server is receiving it
            assert time.monotonic() < deadline
            time.sleep(0.01)
    deadline = time.monotonic() + 10
    while spooled(centre[1]):  # cut off: the partial file goes
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert snapshot(ctx) == before


def test_a_connection_dropped_mid_job_cancels_it(ctx, staff, desk, centre, tmp_path,
                                                 monkeypatch):
    slow_planner(monkeypatch)
    op = desk("op1")
    path = many_rows(tmp_path, 2000)
    before = snapshot(ctx)
    upload = op.upload(path)
    body = {"service": "imports.import_incidents", "kind": "write", "job": True,
            "args": [{"$hosho_file": "in", "upload": upload}], "kwargs": {}}
    headers = {"Authorization": f"Bearer {op.token}"}
    with httpx.Client(base_url=centre[0]) as client:
        with client.stream("POST", "/call", json=body, headers=headers) as response:
            lines = response.iter_lines()
            job = json.loads(next(lines))["job"]
            assert "progress" in json.loads(next(lines))  # it runs ...
        # ... and the desk is gone (the connection closed): the job hears a cancel.
        deadline = time.monotonic() + 30
        while client.get(f"/jobs/{job}", headers=headers).status_code == 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert snapshot(ctx) == before
    assert spooled(centre[1]) == []


def test_uploads_past_the_limit_are_refused_while_streaming(ctx, staff, desk, centre, tmp_path):
    op = desk("op1")
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (LIMIT + 1))
    with pytest.raises(TooLarge) as refused:
        op.write(import_incidents, FileIn(str(big)))
    assert "上限 2 MB" in refused.value.ja and "limit is 2 MB" in refused.value.en
    # No length said beforehand: counted as it comes, refused once past the limit.
    def endless():
        while True:
            yield b"y" * (64 * 1024)

    headers = {"Authorization": f"Bearer {op.token}"}
    with httpx.Client(base_url=centre[0]) as client:
        response = client.post("/files", content=endless(), headers=headers)
    assert response.status_code == 413
    assert response.json()["error"]["class"].endswith("TooLarge")
    # (an endless body: that the answer came at all says the server stopped reading)
    assert spooled(centre[1]) == []
    # A call's own body has a limit too.
    with httpx.Client(base_url=centre[0]) as client:
        response = client.post("/call", headers=headers, json={
            "service": "settings.get", "kind": "read", "args": ["z" * 300_000]})
    assert response.status_code == 413


def test_an_upload_is_its_sessions_only(ctx, staff, desk, centre, tmp_path):
    mine, other = desk("op1"), desk("op2")
    path = write(tmp_path, ROWS)
    upload = mine.upload(path)
    marker = {"$hosho_file": "in", "upload": upload}
    body = {"service": "imports.import_incidents", "kind": "write", "args": [marker]}
    with pytest.raises(NotFound):
        other._post("/call", body)
    with pytest.raises(ValidationError):  # a file parameter never takes a server path
        mine._post("/call", body | {"args": [str(path)]})
    with pytest.raises(ValidationError):  # nor does another parameter take a file
        mine._post("/call", {"service": "cases.add_note", "kind": "write",
                             "args": [1, marker]})
    assert mine._post("/call", body)["result"]["cases_created"] == 3  # still the owner's
    with pytest.raises(NotFound):  # used once
        mine._post("/call", body)
    mine.sign_out()
    assert spooled(centre[1]) == []


def test_letter_batches_come_back_as_files_and_folders(ctx, staff, desk, centre, tmp_path):
    made = [intake.take_phone_intake(ctx, staff["op1"], victim(phone=f"090-1234-000{n}"),
                                     incident(Channel.DEBIT_CHARGE)) for n in range(3)]
    numbers = tuple(c.case_number for c in made)
    op = desk("op1")
    out = tmp_path / "letters" / "guidance.pdf"
    watch = Reports()
    summary = op.write(letters.produce_batch, BatchRequest(LetterKind.GUIDANCE,
                       case_numbers=numbers[:2]), FileOut(str(out)), watch=watch)
    assert summary.batch_id is not None and summary.out == out
    assert [x.path for x in summary.letters] == [out, out]
    assert out.read_bytes().startswith(b"%PDF") and watch.reports
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    folder = tmp_path / "letters" / "per-case"
    per_case = op.write(letters.produce_batch, BatchRequest(
        LetterKind.GUIDANCE, case_numbers=numbers), FileOut(str(tmp_path / "unused.pdf")),
        per_case_dir=FileOut(str(folder), folder=True), watch=Watch())
    assert len(per_case.letters) == 3 and {x.path.parent for x in per_case.letters} == {folder}
    assert sorted(p.name for p in folder.iterdir()) == sorted(x.path.name
                                                               for x in per_case.letters)
    assert all(x.path.read_bytes().startswith(b"%PDF") for x in per_case.letters)
    assert not (tmp_path / "unused.pdf").exists()
    assert not list(tmp_path.rglob("*.part"))
    assert spooled(centre[1]) == []


def _recorded(ctx, action: str) -> list[dict]:
    from sqlalchemy import select

    from app.storage.models import AuditEvent

    with ctx.db.read() as session:
        return [json.loads(after) for after in session.execute(
            select(AuditEvent.after).where(AuditEvent.action == action)
            .order_by(AuditEvent.id)).scalars()]


def test_a_batch_made_at_a_centre_records_the_desks_file_not_the_servers_spool(
        ctx, staff, desk, centre, tmp_path):
    """The batch's record and its audit trail name the file as the desk saved it: the
    server's spool folder (gone after the download, and the server's own business) is
    in no record, nor in what any desk is shown of the batch later."""
    made = [intake.take_phone_intake(ctx, staff["op1"], victim(phone=f"090-1234-000{n}"),
                                     incident(Channel.DEBIT_CHARGE)) for n in range(3)]
    numbers = tuple(c.case_number for c in made)
    op = desk("op1")
    out = tmp_path / "letters" / "guidance-20190820.pdf"
    summary = op.write(letters.produce_batch, BatchRequest(LetterKind.GUIDANCE,
                       case_numbers=numbers[:2]), FileOut(str(out)), watch=Watch())
    assert summary.out == out  # what the desk got back: its own path
    folder = tmp_path / "letters" / "per-case"
    op.write(letters.produce_batch, BatchRequest(LetterKind.GUIDANCE, case_numbers=numbers),
             FileOut(str(tmp_path / "unused.pdf")), per_case_dir=FileOut(str(folder), True))
    spool = str(centre[1])
    batches = op.read(letters.list_batches)
    assert [b.out_path for b in batches] == ["per-case", "guidance-20190820.pdf"]
    assert batches == letters.list_batches(ctx)
    shown = op.read(letters.batch_letters, batches[0].id)
    assert shown and all(spool not in str(x.path) for x in shown)
    assert [e["out"] for e in _recorded(ctx, "letter.batch")] == [
        "guidance-20190820.pdf", "per-case"]
    files = [e["file"] for e in _recorded(ctx, "letter.produce")]
    assert files[:2] == ["guidance-20190820.pdf"] * 2
    assert all(f.startswith("per-case/") and f.endswith(".pdf") for f in files[2:])
    # On a single desk the record keeps the path the operator chose, as before.
    here = tmp_path / "here" / "again.pdf"
    here.parent.mkdir()
    InProcessGateway(ctx, staff["op1"]).write(letters.produce_batch, BatchRequest(
        LetterKind.GUIDANCE, case_numbers=numbers[:1]), FileOut(str(here)))
    assert letters.list_batches(ctx)[0].out_path == str(here)


def approved_bank_case(ctx, staff):
    case = intake.take_phone_intake(ctx, staff["op1"], victim(), incident())
    cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ctx, staff["op1"], case.id, BANK)
    cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    cases.move_case(ctx, staff["sv1"], case.id, MoveRequest(Status.VERIFIED,
                                                            verified_amount=30_000))
    cases.move_case(ctx, staff["sv2"], case.id, approval(ctx, staff, "sv2"))
    return case


def test_zengin_file_with_a_fresh_code(ctx, staff, desk, centre, tmp_path):
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    approved_bank_case(ctx, staff)
    batch = payouts.build_batch(ctx, staff["sv1"])
    payouts.release_batch(ctx, staff["sv2"], batch.id,
                          second_factor=step_up_code(ctx, staff["sv2"]))
    sv2 = desk("sv2")
    assert sv2.read(payouts.page_data) == payouts.page_data(ctx)  # the page, before it
    out = tmp_path / "bank" / f"furikomi-{batch.id}.txt"
    with pytest.raises(PermissionDenied):
        sv2.write(payouts.export_batch, batch.id, FileOut(str(out)), second_factor="000000")
    assert not out.exists() and spooled(centre[1]) == []
    with pytest.raises(PermissionDenied):  # an operator does not get a bank file
        desk("op1").write(payouts.export_batch, batch.id, FileOut(str(out)))
    view = sv2.write(payouts.export_batch, batch.id, FileOut(str(out)),
                     second_factor=step_up_code(ctx, staff["sv2"]))
    assert view == payouts.get_batch(ctx, batch.id)
    assert _recorded(ctx, "payout.batch_export")[-1]["file"] == out.name  # not the spool's path
    here = tmp_path / "here.txt"
    InProcessGateway(ctx, staff["sv1"]).write(payouts.export_batch, batch.id,
                                              FileOut(str(here)),
                                              second_factor=step_up_code(ctx, staff["sv1"]))
    assert out.read_bytes() == here.read_bytes()  # again: the same bytes
    assert len(out.read_bytes()) % 122 == 0  # records of 120 bytes and CR LF
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert spooled(centre[1]) == []


def test_audit_export_downloads_the_trail(ctx, staff, desk, centre, tmp_path):
    intake.take_phone_intake(ctx, staff["op1"], victim(), incident())
    sv1 = desk("sv1")
    out = tmp_path / "audit_log.csv"
    flt = AuditFilter(action="case.open")
    count = audit_log.count_events(ctx, staff["sv1"], flt)
    written = sv1.write(audit_log.export_events, FileOut(str(out)), flt,
                        second_factor=step_up_code(ctx, staff["sv1"]))
    assert written == count > 0
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) >= count + 1 and os.stat(out).st_mode & 0o077 == 0
    assert spooled(centre[1]) == []
    # Watched, as the audit page runs it: a job at the server, its (done, total) relayed.
    watch = Watch()
    again = sv1.write(audit_log.export_events, FileOut(str(out)), flt, watch=watch,
                      second_factor=step_up_code(ctx, staff["sv1"]))
    assert again == count and watch.value == (count, count)


def test_a_cancel_reaching_another_server_process_stops_the_job(ctx, staff, centre, tmp_path,
                                                                monkeypatch):
    """Two server processes on one database and one spool folder (here two servers in
    this process): the job runs at one, the desk's cancel lands at the other."""
    slow_planner(monkeypatch)
    url, spool = centre
    path = many_rows(tmp_path, 2000)
    with running_server(ctx, limits=Limits(upload_bytes=LIMIT, spool=spool)) as other_url:
        op = sign_in(ctx, url, staff, "op1")
        before = snapshot(ctx)
        upload = op.upload(path)
        body = {"service": "imports.import_incidents", "kind": "write", "job": True,
                "args": [{"$hosho_file": "in", "upload": upload}], "kwargs": {}}
        headers = {"Authorization": f"Bearer {op.token}"}
        with httpx.Client(base_url=url, timeout=30) as here, \
                httpx.Client(base_url=other_url, timeout=30) as there, \
                here.stream("POST", "/call", json=body, headers=headers) as response:
            lines = (json.loads(raw) for raw in response.iter_lines() if raw)
            job = next(lines)["job"]
            assert "progress" in next(lines)
            refused = there.get(f"/jobs/{job}", headers=headers)
            assert refused.status_code == 409 and "another" in refused.json()["error"]["en"]
            asked = there.post(f"/jobs/{job}/cancel", headers=headers).json()
            assert asked == {"status": "asked"}
            last = [m for m in lines if "progress" not in m and "alive" not in m]
        assert last[0]["error"]["class"].endswith("ImportCancelled")
        op.close()
    assert snapshot(ctx) == before
    assert spooled(spool) == []


def test_the_spool_forgets_what_is_left_behind(ctx, staff, desk, centre, tmp_path):
    from app.server.files import Spool

    op = desk("op1")
    op.upload(write(tmp_path, ROWS))
    assert len(spooled(centre[1])) == 1
    op.sign_out()  # the session's uploads and downloads go with it
    assert spooled(centre[1]) == []
    again = desk("op1")
    again.upload(write(tmp_path, ROWS))
    forgetful = Spool(Limits(spool=centre[1], ttl_seconds=0.0))
    time.sleep(0.05)
    assert forgetful.sweep(force=True) == 1 and spooled(centre[1]) == []


def test_limits_come_from_the_servers_environment(tmp_path):
    limits = Limits.from_environment({"HOSHO_UPLOAD_LIMIT_MB": "50", "HOSHO_CALL_LIMIT_MB": "1",
                                      "HOSHO_SPOOL_DIR": str(tmp_path),
                                      "HOSHO_SPOOL_TTL_MINUTES": "5"})
    assert limits == Limits(upload_bytes=50 * MB, call_bytes=MB, spool=tmp_path,
                            ttl_seconds=300.0)
    assert Limits.from_environment({}).upload_bytes == 200 * MB
    with pytest.raises(UserError):
        Limits.from_environment({"HOSHO_UPLOAD_LIMIT_MB": "lots"})
