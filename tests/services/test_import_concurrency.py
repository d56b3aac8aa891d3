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
