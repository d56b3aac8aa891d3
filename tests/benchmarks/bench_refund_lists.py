"""The refund page's reads at 440,000 members and 100,000 applications: the work lists,
their counts, the figures, the people in both programmes, one application, and the
look-ups a decision makes; each beside the same SQL run on the driver alone, with the
database's plan of every statement.

    .venv/bin/python -m tests.benchmarks.bench_refund_lists [--members N]
        [--applications N] [--pg URL]

The data is the refund benchmark's files (bench_refunds), imported by the program's own
import, then ANALYZEd. With ``--pg`` (a server URL such as HOSHO_TEST_PG_URL) the same
runs on a throwaway PostgreSQL database, created and dropped. Targets as for the case
list: a screen within 500 ms, a look-up within 150 ms.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from app.domain.roles import SYSTEM_ACTOR
from app.services import refunds, refunds_overlap, refunds_stats
from app.services.context import AppContext
from app.services.refunds_import import import_applications, import_balances
from app.storage import migrate
from app.storage.db import Database
from tests.benchmarks.bench_refunds import make_files
from tests.benchmarks.common import timed


class Statements:
    """The SQL a service call sends, with its parameters."""

    def __init__(self, db: Database) -> None:
        self.seen: list[tuple[str, object]] = []
        self.on = False
        event.listen(db.engine, "before_cursor_execute", self._note)

    def _note(self, _conn, _cursor, statement, parameters, _context, _many) -> None:
        if self.on and statement.lstrip().upper().startswith("SELECT"):
            self.seen.append((statement, parameters))

    def of(self, action) -> list[tuple[str, object]]:
        self.seen, self.on = [], True
        try:
            action()
        finally:
            self.on = False
        return self.seen


def plan(db: Database, statement: str, parameters) -> list[str]:
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return [row[-1] for row in rows]
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF) {statement}",
                                    parameters).all()
        return [row[0] for row in rows]


def driver_only(db: Database, statements: list[tuple[str, object]]):
    """The same statements on the driver's own connection (no ORM, no row records)."""
    raw = db.engine.raw_connection()

    def run() -> None:
        cursor = raw.cursor()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        cursor.close()
        raw.rollback()
    return run


def load(db: Database, folder: Path, members: int, applications: int) -> None:
    migrate.upgrade(db)
    balances, apps = make_files(folder, members, applications)
    ctx = AppContext(db)
    started = time.perf_counter()
    import_balances(ctx, SYSTEM_ACTOR, balances)
    import_applications(ctx, SYSTEM_ACTOR, apps)
    print(f"  imported {members:,} members and {applications:,} applications in "
          f"{time.perf_counter() - started:.1f} s")
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def measure(db: Database, show_plans: bool = True) -> None:
    ctx = AppContext(db)
    statements = Statements(db)
    with db.engine.connect() as conn:
        some = conn.execute(text(
            "SELECT a.id, m.member_id, m.phone_digits FROM refund_application a "
            "JOIN refund_member m ON m.id = a.member_ref "
            "WHERE a.state = 'awaiting_identity' ORDER BY a.id DESC LIMIT 1")).one()
        members = conn.execute(text("SELECT count(*) FROM refund_member")).scalar_one()
        counts = dict(conn.execute(text(
            "SELECT state, count(*) FROM refund_application GROUP BY state")).all())
    print(f"  {members:,} members; applications by state: {counts}")
    calls = [(f"work list {name}", (lambda n=name: refunds.work_list(ctx, n)), "500 ms")
             for name in ("awaiting_identity", "unmatched", "late", "held_overlap")]
    calls += [
        ("work list awaiting_identity, page 100 (offset 9,900)",
         lambda: refunds.work_list(ctx, "awaiting_identity", offset=9_900), "500 ms"),
        ("work list counts", lambda: refunds.work_list_counts(ctx), "500 ms"),
        ("programme figures", lambda: refunds_stats.figures(ctx), "500 ms"),
        ("people in both programmes", lambda: refunds_overlap.both_programmes(ctx), "500 ms"),
        ("one application", lambda: refunds.get_application(ctx, some[0]), "150 ms"),
    ]
    for name, action, target in calls:
        sql = statements.of(action)
        ours = timed(action)
        bare = timed(driver_only(db, sql))
        print(f"  {name:<52} {ours * 1000:8.1f} ms   driver alone {bare * 1000:7.1f} ms   "
              f"target {target}")
        if show_plans:
            for statement, parameters in sql:
                for line in plan(db, statement, parameters):
                    print(f"      {line}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=440_000)
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--pg", help="a PostgreSQL server's URL (a database is made there)")
    parser.add_argument("--no-plans", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.pg:
            name = f"hosho_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            db = Database(make_url(args.pg).set(database=name)
                          .render_as_string(hide_password=False))
        else:
            db = Database(str(Path(folder) / "refunds.sqlite3"))
        print(f"refund lists on {db.engine.dialect.name}")
        try:
            load(db, Path(folder), args.members, args.applications)
            measure(db, not args.no_plans)
        finally:
            db.dispose()
            if args.pg:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
