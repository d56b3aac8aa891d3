"""Importing incident files: outcomes, grouping, all-or-nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.errors import UserError
from app.importers.incident_csv import FileRefused
from app.services import stats
from app.services.imports import ImportCancelled, import_incidents
from app.storage.models import AuditEvent, Case, ImportBatch, Incident, Victim

HEADER = "受付番号,7iD,氏名,フリガナ,電話番号,メールアドレス,被害区分,発生日時,被害金額\r\n"


def write(tmp_path, rows: list[str], name="list.csv", encoding="utf-8", header=HEADER):
    path = tmp_path / name
    path.write_bytes((header + "".join(r + "\r\n" for r in rows)).encode(encoding))
    return path


def snapshot(ctx) -> dict:
    with ctx.db.read() as s:
        return {m.__name__: s.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (Victim, Case, Incident, AuditEvent, ImportBatch)}


ROWS = [
    "R1,,山田 太郎,ヤマダ タロウ,090-1111-2222,,nanaco,2019/07/03,\"1,000円\"",
    "R2,,山田　太郎,ﾔﾏﾀﾞ ﾀﾛｳ,09011112222,,nanaco,2019年7月3日,￥2000",
    "R3,,山田太郎,やまだたろう,０９０－１１１１－２２２２,,不正利用,R1.7.3,3000",
    "R4,7i0001,佐藤 花子,サトウ ハナコ,,hanako@example.jp,クレジット,2019-07-02T10:00:00+09:00,500",
    "R5,7i0001,佐藤 華子,,080-9999-0000,,クレジット,2019/7/2 11:00,700",
    "R6,,鈴木 一郎,,,,debit,2019/07/01,100",
    "R7,,田中 次郎,,070-1234-5678,,nanaco,2019/02/30,100",
]


def test_outcomes_grouping_and_amounts(ctx, staff, tmp_path):
    summary = import_incidents(ctx, staff["op1"], write(tmp_path, ROWS))
    assert (summary.read, summary.accepted, summary.rejected) == (7, 5, 2)
    assert summary.victims_created == 2  # 山田 written three ways; 佐藤 by member ID
    assert summary.cases_created == 3  # 山田 nanaco + unauthorized, 佐藤 credit
    assert summary.amount_accepted_by_channel == {
        "credit_charge": 1200, "debit_charge": 0, "nanaco_charge": 3000,
        "unauthorized_use": 3000}
    figures = stats.programme_stats(ctx)
    assert figures["claimed_total"] == 7200
    assert [r.line for r in summary.refused] == [7, 8]
    assert "phone" in " ".join(summary.refused[0].reasons).lower()


def test_reimport_adds_nothing(ctx, staff, tmp_path):
    path = write(tmp_path, ROWS)
    import_incidents(ctx, staff["op1"], path)
    before = stats.programme_stats(ctx)
    again = import_incidents(ctx, staff["op1"], path)
    assert (again.accepted, again.duplicate, again.rejected) == (0, 5, 2)
    assert stats.programme_stats(ctx) == before


def test_conflict_within_file_and_across_imports_names_the_field(ctx, staff, tmp_path):
    first = write(tmp_path, [ROWS[0], ROWS[0], ROWS[0].replace("1,000円", "1,500円")])
    summary = import_incidents(ctx, staff["op1"], first)
    assert (summary.accepted, summary.duplicate, summary.conflict) == (1, 1, 1)
    assert "amount" in summary.refused[0].reasons[0]
    later = write(tmp_path, [ROWS[0].replace("2019/07/03", "2019/07/04")], name="b.csv")
    summary = import_incidents(ctx, staff["op1"], later)
    assert summary.conflict == 1 and "occurred_at" in summary.refused[0].reasons[0]
    assert stats.programme_stats(ctx)["claimed_total"] == 1000


def test_cp932_file_with_backslash_yen(ctx, staff, tmp_path):
    path = write(tmp_path, ["C1,,髙橋 一郎,,090-2222-3333,,デビット,2019/7/1,\\1000",
                            "C2,,髙橋 一郎,,090-2222-3333,,デビット,2019/7/1,\"\\2,000\""],
                 encoding="cp932")
    assert b"\\1000" in path.read_bytes()  # the yen sign is byte 0x5C in CP932
    summary = import_incidents(ctx, staff["op1"], path)
    assert summary.encoding == "cp932"
    assert (summary.accepted, summary.victims_created) == (2, 1)
    assert summary.amount_accepted_by_channel["debit_charge"] == 3000


def test_dry_run_reports_the_same_and_writes_nothing(ctx, staff, tmp_path):
    before = snapshot(ctx)
    dry = import_incidents(ctx, staff["op1"], write(tmp_path, ROWS), dry_run=True)
    assert snapshot(ctx) == before
    real = import_incidents(ctx, staff["op1"], write(tmp_path, ROWS))
    assert dry.as_json() | {"batch_id": None, "dry_run": True} == \
        real.as_json() | {"batch_id": None, "dry_run": True}


def test_failure_part_way_leaves_database_as_it_was(ctx, staff, tmp_path, monkeypatch):
    import app.services.imports as imports

    monkeypatch.setattr(imports, "CHUNK", 2)
    before = snapshot(ctx)
    calls = {"n": 0}

    def cancel_on_third_chunk() -> bool:
        calls["n"] += 1
        return calls["n"] == 3

    with pytest.raises(ImportCancelled):
        import_incidents(ctx, staff["op1"], write(tmp_path, ROWS), cancel=cancel_on_third_chunk)
    assert snapshot(ctx) == before


def test_late_refusal_rolls_back_the_whole_file(ctx, staff, tmp_path, monkeypatch):
    """A bad byte far into the file is found while streaming: nothing stays written."""
    import app.services.imports as imports

    monkeypatch.setattr(imports, "CHUNK", 2)
    path = tmp_path / "late.csv"
    good = "".join(f"L{i},,山本 {i},,090-3333-{i:04d},,nanaco,2019/07/03,100\r\n"
                   for i in range(3000))
    path.write_bytes(HEADER.encode() + good.encode() + b"L9,,\xff\xfe,,090,,nanaco,x,1\r\n")
    before = snapshot(ctx)
    with pytest.raises(FileRefused):
        import_incidents(ctx, staff["op1"], path)
    assert snapshot(ctx) == before


def test_file_that_is_not_text_or_lacks_a_column_is_refused(ctx, staff, tmp_path):
    workbook = tmp_path / "book.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(FileRefused, match="xlsx"):
        import_incidents(ctx, staff["op1"], workbook)
    missing = write(tmp_path, ["X1,山田,nanaco"], header="受付番号,氏名,被害区分\r\n")
    with pytest.raises(UserError):
        import_incidents(ctx, staff["op1"], missing)
    assert snapshot(ctx)["ImportBatch"] == 0


def test_batch_is_recorded_with_audit_events(ctx, staff, tmp_path):
    summary = import_incidents(ctx, staff["op2"], write(tmp_path, ROWS))
    with ctx.db.read() as s:
        batch = s.get(ImportBatch, summary.batch_id)
        actions = dict(s.execute(select(AuditEvent.action, func.count())
                                 .group_by(AuditEvent.action)).all())
    assert (batch.rows_read, batch.accepted, batch.amount_accepted) == (7, 5, 7200)
    assert batch.operator_id == staff["op2"].operator_id and len(batch.sha256) == 64
    assert actions["import.batch"] == 1 and actions["case.open"] == 3
    assert actions["victim.create"] == 2
    assert "import.incidents" not in actions  # new cases open with their claim


def test_case_opening_and_growing_claims_are_each_one_event(ctx, staff, tmp_path):
    import_incidents(ctx, staff["op1"], write(tmp_path, ROWS[:2]))
    later = ["R8,,山田 太郎,,090-1111-2222,,nanaco,2019/07/04,500"]
    import_incidents(ctx, staff["op2"], write(tmp_path, later, name="later.csv"))
    with ctx.db.read() as s:
        events = s.execute(select(AuditEvent.action, AuditEvent.actor_login,
                                  AuditEvent.before, AuditEvent.after)
                           .where(AuditEvent.entity == "case").order_by(AuditEvent.seq)).all()
        claimed = s.execute(select(Case.claimed_amount, Case.version)).one()
    (opened, first_login, _, opened_after), (grown, login, before, after) = events
    assert (opened, first_login) == ("case.open", "op1")
    assert json.loads(opened_after)["claimed_amount"] == 3000
    assert json.loads(opened_after)["incidents_added"] == 2
    assert (grown, login) == ("import.incidents", "op2")
    assert json.loads(before) == {"claimed_amount": 3000}
    assert json.loads(after)["claimed_amount"] == 3500
    assert tuple(claimed) == (3500, 2)


def test_import_into_a_verified_case_is_refused(ctx, staff, tmp_path):
    from app.domain.channels import PayoutKind
    from app.domain.payout import PayoutDetails
    from app.domain.states import Status
    from app.services import cases
    from app.services.cases import MoveRequest
    from app.services.payout_details import set_payout_details

    import_incidents(ctx, staff["op1"], write(tmp_path, [ROWS[0]]))
    with ctx.db.read() as session:
        case_id = session.execute(select(Case.id)).scalar_one()
    cases.move_case(ctx, staff["op1"], case_id, MoveRequest(Status.CONTACTED))
    set_payout_details(ctx, staff["op1"], case_id,
                       PayoutDetails(PayoutKind.NANACO, nanaco_number="1" * 16))
    cases.move_case(ctx, staff["op1"], case_id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    cases.move_case(ctx, staff["op1"], case_id, MoveRequest(Status.VERIFIED,
                                                          verified_amount=1000))
    later = import_incidents(ctx, staff["op1"], write(tmp_path, [ROWS[1]], name="later.csv"))
    assert later.rejected == 1 and "verified" in later.refused[0].reasons[0]
    assert cases.get_case(ctx, staff["op1"], case_id).claimed_amount == 1000


def row_strategy():
    amount = st.one_of(st.integers(-5, 1_200_000).map(str), st.sampled_from(["1,000円", "x", ""]))
    name = st.sampled_from(["山田 太郎", "佐藤 花子", ""])
    rid = st.sampled_from([f"P{i}" for i in range(8)])
    return st.tuples(rid, name, amount, st.sampled_from(["nanaco", "debit", "??"]))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_strategy(), max_size=25))
def test_every_row_ends_in_exactly_one_outcome(ctx, staff, tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("prop")
    lines = [f"{rid},,{name},,090-1234-5678,,{channel},2019/07/03,\"{amount}\""
             for rid, name, amount, channel in rows]
    summary = import_incidents(ctx, staff["op1"], write(folder, lines))
    assert summary.read == summary.accepted + summary.duplicate + summary.conflict + \
        summary.rejected
    assert summary.read == len([r for r in rows if any(r)])


KILL_SCRIPT = """
import sys
from app.domain.roles import SYSTEM_ACTOR
from app.services.context import AppContext
from app.services.imports import import_incidents
from app.storage.db import Database
import app.services.imports as imports
imports.CHUNK = 200
def progress(done, total):
    print("progress", flush=True)
import_incidents(AppContext(Database(sys.argv[1])), SYSTEM_ACTOR, sys.argv[2], progress=progress)
print("finished", flush=True)
"""


def test_killed_import_leaves_database_unchanged(tmp_path, sqlite_template):
    import shutil

    db_path = tmp_path / "kill.sqlite3"
    shutil.copy(sqlite_template, db_path)
    rows = [f"K{i},,木村 {i % 500},,090-4444-{i % 500:04d},,nanaco,2019/07/03,100"
            for i in range(40_000)]
    csv_path = write(tmp_path, rows)
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(db_path), str(csv_path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "progress"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(0.1)
    from app.services.context import AppContext
    from app.storage.db import Database

    ctx = AppContext(Database(str(db_path)))
    assert snapshot(ctx) == {"Victim": 0, "Case": 0, "Incident": 0, "AuditEvent": 0,
                             "ImportBatch": 0}


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_claims_equal_their_incidents_however_the_file_is_chunked(ctx, staff, tmp_path,
                                                                   monkeypatch, chunk):
    """A victim's incidents spread over several chunks still add up on one case."""
    import app.services.imports as imports

    monkeypatch.setattr(imports, "CHUNK", chunk)
    summary = import_incidents(ctx, staff["op1"], write(tmp_path, ROWS))
    with ctx.db.read() as s:
        claims = dict(s.execute(select(Case.id, Case.claimed_amount)).all())
        sums = dict(s.execute(select(Incident.case_id, func.sum(Incident.amount))
                              .group_by(Incident.case_id)).all())
    assert claims == sums and sum(claims.values()) == 7200
    assert summary.cases_created == len(claims) == 3
    # The trail and the versions do not depend on where the chunks fell either.
    with ctx.db.read() as s:
        events = s.execute(select(AuditEvent.action, AuditEvent.case_id, AuditEvent.after)
                           .where(AuditEvent.entity == "case")).all()
        versions = set(s.execute(select(Case.version)).scalars())
    assert sorted(action for action, _c, _a in events) == ["case.open"] * 3
    assert {case: json.loads(after)["claimed_amount"] for _a, case, after in events} == claims
    assert versions == {1}


def test_a_case_grown_across_chunks_gets_one_event_and_one_version(ctx, staff, tmp_path,
                                                                    monkeypatch):
    import app.services.imports as imports

    import_incidents(ctx, staff["op1"], write(tmp_path, ROWS[:1]))
    monkeypatch.setattr(imports, "CHUNK", 1)
    later = [f"R{n},,山田 太郎,,090-1111-2222,,nanaco,2019/07/04,500" for n in (8, 9, 10)]
    import_incidents(ctx, staff["op2"], write(tmp_path, later, name="later.csv"))
    with ctx.db.read() as s:
        grown = s.execute(select(AuditEvent.before, AuditEvent.after)
                          .where(AuditEvent.action == "import.incidents")).all()
        claimed, version = s.execute(select(Case.claimed_amount, Case.version)).one()
    assert len(grown) == 1
    assert json.loads(grown[0][0]) == {"claimed_amount": 1000}
    assert json.loads(grown[0][1])["claimed_amount"] == 2500 == claimed
    assert json.loads(grown[0][1])["incidents_added"] == 3
    assert version == 2  # one import, one change


def test_refused_reasons_in_each_language_and_both_for_the_file(ctx, staff, tmp_path):
    summary = import_incidents(ctx, staff["op1"], write(tmp_path, ROWS))
    bad_date = summary.refused[1]  # R7: 2019/02/30
    assert bad_date.ja == ("発生日時: 存在しない日付です。",)
    assert bad_date.en == ("発生日時: This date does not exist.",)
    assert bad_date.reasons == ("発生日時: 存在しない日付です。 / This date does not exist.",)
