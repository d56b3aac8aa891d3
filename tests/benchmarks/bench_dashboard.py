"""Dashboard figures on a million-case demo.

    .venv/bin/python -m tests.benchmarks.bench_dashboard [--victims N]

The figure is the whole service call the dashboard page makes (every aggregate,
settings, records). The baseline replays the very same SQL statements, captured
from that call, in plain sqlite3. Target: all figures within 1 s.
"""

from __future__ import annotations

import argparse
import sqlite3
import time

from sqlalchemy import event, inspect

from app.services import dashboard, queue
from app.services.context import AppContext
from app.storage.db import Database
from app.storage.models import Case, CaseQueue
from tests.benchmarks.common import demo_database, report, timed


def captured_statements(ctx: AppContext) -> list[tuple[str, tuple]]:
    seen: list[tuple[str, tuple]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, tuple(parameters or ())))

    event.listen(ctx.db.engine, "before_cursor_execute", remember)
    try:
        dashboard.dashboard(ctx)
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", remember)
    return seen


def queue_statements(ctx: AppContext) -> list[tuple[str, tuple]]:
    seen: list[tuple[str, tuple]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, tuple(parameters or ())))

    event.listen(ctx.db.engine, "before_cursor_execute", remember)
    try:
        queue.list_queue(ctx, 0, 100)
        queue.count_queue(ctx)
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", remember)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--victims", type=int, default=1_000_000)
    args = parser.parse_args()
    path = demo_database(args.victims)
    db = Database(str(path))
    # A demo file built while migration 0007 was still being written may lack its table or
    # index: add them as the migration does.
    if not inspect(db.engine).has_table("case_queue"):
        CaseQueue.__table__.create(db.engine)
    names = {ix["name"] for ix in inspect(db.engine).get_indexes("case_file")}
    missing = [ix for ix in Case.__table__.indexes if ix.name not in names]
    for index in missing:
        index.create(db.engine)
    if missing:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE case_file")
    ctx = AppContext(db)
    started = time.perf_counter()
    board = dashboard.dashboard(ctx)
    cold = time.perf_counter() - started
    statements = captured_statements(ctx)
    connection = sqlite3.connect(path)

    def plain() -> None:
        for sql, parameters in statements:
            connection.execute(sql, parameters).fetchall()

    print(f"dashboard benchmark on {path.name}: {board.totals.cases:,} cases, "
          f"{board.victims:,} victims, {len(statements)} statements; first call {cold:.2f} s")
    report("all dashboard figures", timed(lambda: dashboard.dashboard(ctx), 3),
           timed(plain, 3), "1000 ms")
    # The outreach queue's first page and its count (what the queue page shows), informative.
    page_sql = queue_statements(ctx)
    report("outreach queue: first page and count", timed(lambda: (
        queue.list_queue(ctx, 0, 100), queue.count_queue(ctx)), 3),
        timed(lambda: [connection.execute(s, p).fetchall() for s, p in page_sql], 3), "-")
    for sql, parameters in statements:
        single = timed(lambda s=sql, p=parameters: connection.execute(s, p).fetchall(), 1)
        print(f"    {single * 1000:8.1f} ms  {' '.join(sql.split())[:100]}")


if __name__ == "__main__":
    main()
