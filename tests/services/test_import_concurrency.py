"""An import does not block the centre: while a 100,000-row file is read, checked,
grouped and written (and while it is only counted, in a dry run), another desk's
small write goes through, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from app.domain.roles import SYSTEM_ACTOR
from app.services import settings
from app.services.context import AppContext
from app.services.imports import import_incidents
from app.storage.db import Database

ROWS = 100_000
HEADER = "受付番号,7iD,氏名,フリガナ,電話番号,メールアドレス,被害区分,発生日時,被害金額\r\n"
GIVE_UP = 300  # seconds: only to stop a hang, never a measure


def big_file(path, rows: int = ROWS):
    with open(path, "w", encoding="cp932", newline="") as handle:
        handle.write(HEADER)
        for i in range(rows):
            victim = i // 2
            handle.write(f"B{i:08d},7i{victim:010d},佐藤 {victim % 97},サトウ,"
                         f"090-{victim % 10000:04d}-{victim // 10000:04d},,nanaco,"
                         f"2019/07/0{i % 4 + 1},\"{(i % 50 + 1) * 1000:,}円\"\r\n")
    return path


def writes_during(ctx: AppContext, run) -> dict:
    """Run ``run`` (an import) in a thread; from another connection, change a setting
    (a write with its audit event) again and again until the import ends."""
    other = AppContext(Database(ctx.db.url), clock=ctx.clock)
    started, finished = threading.Event(), threading.Event()
    outcome: dict = {}

    def importing() -> None:
        try:
            outcome["summary"] = run(lambda _done, _total: started.set())
        except BaseException as exc:  # reported by the test, not lost in the thread
            outcome["error"] = exc
        finally:
            started.set()
            finished.set()

    thread = threading.Thread(target=importing)
    thread.start()
    assert started.wait(GIVE_UP)
    waits, refused, during = [], [], 0
    try:
        while not finished.is_set():
            before = time.perf_counter()
            try:
                settings.change(other, SYSTEM_ACTOR, "hotline",
                                f"0120-{len(waits) % 1000:03d}-044")
            except Exception as exc:  # a busy refusal is what this test is about
                refused.append(exc)
            waits.append(time.perf_counter() - before)
            if not finished.is_set():
                during += 1
            time.sleep(0.05)
    finally:
        thread.join(GIVE_UP)
        other.db.dispose()
    if "error" in outcome:
        raise outcome["error"]
    print(f"\n{len(waits)} writes beside the import, {during} finished while it ran; "
          f"longest wait {max(waits):.3f} s")
    return {"summary": outcome["summary"], "refused": refused, "during": during}


@pytest.mark.slow
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "import"])
def test_another_desk_writes_while_a_large_file_imports(ctx, staff, tmp_path, dry_run):
    path = big_file(tmp_path / "big.csv")
    seen = writes_during(ctx, lambda progress: import_incidents(
        ctx, staff["op1"], path, dry_run=dry_run, progress=progress))
    assert seen["refused"] == []
    assert seen["during"] >= 1  # completed while the import still ran
    assert seen["summary"].accepted == ROWS
    assert settings.get(ctx).hotline.startswith("0120-")


# -- another desk writes between the plan and its writing --------------------------------
CALLER = "R1,,山田 太郎,ヤマダ タロウ,090-1111-2222,,nanaco,2019/07/03,1000"


def _meanwhile(ctx, actor, action):
    """A progress callback that lets another desk write once, while the file is read."""
    other = AppContext(Database(ctx.db.url), clock=ctx.clock)
    done = []

    def progress(_done, _total):
        if not done:
            done.append(action(other, actor))

    return progress, other


def test_a_victim_registered_meanwhile_is_matched_not_duplicated(ctx, staff, tmp_path):
    from app.domain.channels import Channel
    from app.services import intake
    from tests.services.helpers import incident, victim
    from tests.services.test_imports import snapshot, write

    progress, other = _meanwhile(ctx, staff["op2"], lambda o, a: intake.take_phone_intake(
        o, a, victim(phone="090-1111-2222"), incident(Channel.NANACO_CHARGE, amount=500)))
    summary = import_incidents(ctx, staff["op1"], write(tmp_path, [CALLER]), progress=progress)
    other.db.dispose()
    assert (summary.accepted, summary.victims_created, summary.cases_created) == (1, 0, 0)
    counts = snapshot(ctx)
    assert (counts["Victim"], counts["Case"], counts["Incident"]) == (1, 1, 2)
    with ctx.db.read() as s:
        from sqlalchemy import select

        from app.storage.models import Case
        assert s.execute(select(Case.claimed_amount)).scalar_one() == 1500


def test_a_report_stored_meanwhile_is_not_imported_twice(ctx, staff, tmp_path):
    from app.domain.channels import Channel
    from app.services import intake
    from tests.services.helpers import incident, victim
    from tests.services.test_imports import snapshot, write

    progress, other = _meanwhile(ctx, staff["op2"], lambda o, a: intake.take_phone_intake(
        o, a, victim(name="別人", phone="080-0000-0000"),
        incident(Channel.DEBIT_CHARGE, amount=700, report_id="R1")))
    summary = import_incidents(ctx, staff["op1"], write(tmp_path, [CALLER]), progress=progress)
    other.db.dispose()
    assert (summary.accepted, summary.conflict) == (0, 1)
    assert snapshot(ctx)["Incident"] == 1


def test_a_file_whose_victims_keep_changing_is_refused_whole(ctx, staff, tmp_path):
    from app.core.errors import ChangedMeanwhile
    from app.services import intake
    from tests.services.helpers import incident, victim
    from tests.services.test_imports import snapshot, write

    other = AppContext(Database(ctx.db.url), clock=ctx.clock)
    calls = []

    def progress(_done, _total):  # each plan sees another caller with the file's phone
        calls.append(intake.take_phone_intake(other, staff["op2"], victim(
            name=f"別人{len(calls)}", member_id=f"7iX{len(calls)}", phone="090-1111-2222"),
            incident()))

    before = snapshot(ctx)
    with pytest.raises(ChangedMeanwhile):
        import_incidents(ctx, staff["op1"], write(tmp_path, [CALLER]), progress=progress)
    other.db.dispose()
    after = snapshot(ctx)
    assert after["ImportBatch"] == before["ImportBatch"] == 0
    assert after["Victim"] == len(calls)  # the other desk's callers only
