"""Importing 440,000 closing balances and 100,000 refund applications (CP932 files)
into an empty database, beside the floor of writing the same rows into the same schema.

    .venv/bin/python -m tests.benchmarks.bench_refunds [--members N] [--applications N]
        [--repeat N]

Each side runs in its own process (its peak memory is its own), the two alternated
``--repeat`` times (the machine's load varies). The floor is the least any import of
these files could do, as for the incident import (bench_import): read both files with
Python's csv module, then write exactly the rows the import left in every table
(members, applications, import batches, audit events, the audit head) with
sqlite3.executemany into the same migrated schema (the same indexes, constraints and
triggers) and the program's connection settings, in one transaction.
Target (issue #17): the imports within 2 times the floor. Also printed: how long each
import's write transaction held the write lock (the plan before it reads only).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

BALANCE_HEADER = "会員ID,残高,不正チャージ由来残高,氏名,フリガナ,電話番号,メールアドレス,退会日\r\n"
APPLICATION_HEADER = ("申出番号,会員ID,氏名,フリガナ,電話番号,申出経路,申出日時,払戻方法,"
                      "金融機関コード,支店コード,預金種目,口座番号,口座名義\r\n")
ROUTES = ["アプリ", "アプリ", "Web", "電話"]


def make_files(folder: Path, members: int, applications: int, seed: int = 1
               ) -> tuple[Path, Path]:
    rng = random.Random(seed)
    balances, apps = folder / "balances.csv", folder / "applications.csv"
    with open(balances, "w", encoding="cp932", newline="") as out:
        out.write(BALANCE_HEADER)
        for i in range(members):
            closed = "2019/08/01" if i % 97 == 0 else ""
            balance = rng.choice([0, 120, 1500, 8000])
            fraud = str(rng.randint(0, balance)) if i % 50 == 0 else ""
            out.write(f"7i{i:010d},\"{balance:,}\",{fraud},"
                      f"山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,090-{i % 10000:04d}-{i // 10000:04d},,{closed}\r\n")
    with open(apps, "w", encoding="cp932", newline="") as out:
        out.write(APPLICATION_HEADER)
        for i in range(applications):
            member = rng.randrange(members)
            method = "口座振込" if i % 3 else "払出証書"
            bank = "0001,001,普通,1234567,ﾔﾏﾀﾞ ﾀﾛｳ" if method == "口座振込" else ",,,,"
            out.write(f"AP{i:08d},7i{member:010d},山田 太郎,ヤマダ タロウ,"
                      f"090-{member % 10000:04d}-{member // 10000:04d},{rng.choice(ROUTES)},"
                      f"2019/1{rng.randint(0, 2)}/0{rng.randint(1, 9)} 10:00,{method},{bank}\r\n")
    return balances, apps


OURS = """
import json, resource, sys, time
from app.domain.roles import SYSTEM_ACTOR
from app.services.context import AppContext
from app.services.refunds_import import import_applications, import_balances
from app.storage import migrate
from app.storage.db import Database
import contextlib
db = Database(sys.argv[1]); migrate.upgrade(db)
ctx = AppContext(db)
held, write = [], db.write  # how long each write transaction holds the lock

@contextlib.contextmanager
def timed_write():
    begun = time.perf_counter()
    with write() as session:
        yield session
    held.append(time.perf_counter() - begun)

db.write = timed_write
started, cpu = time.perf_counter(), time.process_time()
balances = import_balances(ctx, SYSTEM_ACTOR, sys.argv[2])
middle = time.perf_counter()
applications = import_applications(ctx, SYSTEM_ACTOR, sys.argv[3])
ended, cpu = time.perf_counter(), time.process_time() - cpu
print(json.dumps({"balances_seconds": middle - started, "applications_seconds": ended - middle,
                  "seconds": ended - started, "cpu": cpu, "held": held,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "read": balances.read + applications.read,
                  "members": balances.accepted, "applications": applications.accepted,
                  "states": applications.states}))
"""

FLOOR = """
import csv, json, resource, sqlite3, sys, time
from app.storage import db as storage, migrate
target, left, files = sys.argv[1], sys.argv[2], sys.argv[3:]
db = storage.Database(target); migrate.upgrade(db); db.dispose()  # same schema
# The rows the import left, table by table (read before the clock starts).
ours, fresh = sqlite3.connect(left), sqlite3.connect(target)
plan = []
for (table,) in fresh.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                              "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"):
    info = list(fresh.execute(f'PRAGMA table_info("{table}")'))
    columns, keys = [row[1] for row in info], [row[1] for row in info if row[5]]
    before = set(fresh.execute(f'SELECT * FROM "{table}"'))
    rows = [row for row in ours.execute(f'SELECT {", ".join(columns)} FROM "{table}"')
            if row not in before]
    stored = {tuple(row[columns.index(k)] for k in keys) for row in before}
    inserts = [r for r in rows if tuple(r[columns.index(k)] for k in keys) not in stored]
    updates = [r for r in rows if tuple(r[columns.index(k)] for k in keys) in stored]
    if inserts:
        plan.append((f'INSERT INTO "{table}" ({", ".join(columns)}) '
                     f'VALUES ({", ".join("?" * len(columns))})', inserts))
    if updates:
        sets = ", ".join(f"{c} = ?" for c in columns)
        where = " AND ".join(f"{k} = ?" for k in keys)
        plan.append((f'UPDATE "{table}" SET {sets} WHERE {where}',
                     [(*r, *(r[columns.index(k)] for k in keys)) for r in updates]))
ours.close(); fresh.close()
written = {sql.split('"')[1]: len(rows) for sql, rows in plan}
started, cpu = time.perf_counter(), time.process_time()
connection = sqlite3.connect(target, isolation_level=None)
for pragma in ("journal_mode = WAL", "foreign_keys = ON",
               f"synchronous = {storage.SYNCHRONOUS}", "cache_size = -16384"):
    connection.execute(f"PRAGMA {pragma}")  # as the program's connections
read = 0
for name in files:
    with open(name, encoding="cp932", newline="") as handle:
        read += sum(1 for _row in csv.reader(handle)) - 1
connection.execute("BEGIN IMMEDIATE")
for sql, rows in plan:
    connection.executemany(sql, rows)
connection.execute("COMMIT")
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu": cpu,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "read": read, "written": written}))
"""


def _run(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=440_000)
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each side, alternated (the machine's load varies)")
    args = parser.parse_args()
    runs: list[tuple[dict, dict]] = []
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        balances, apps = make_files(base, args.members, args.applications)
        for attempt in range(args.repeat):
            left = base / f"ours{attempt}.sqlite3"
            ours = _run(OURS, str(left), str(balances), str(apps))
            floor = _run(FLOOR, str(base / f"floor{attempt}.sqlite3"), str(left),
                         str(balances), str(apps))
            assert ours["read"] == floor["read"] == args.members + args.applications
            runs.append((ours, floor))
            left.unlink()
    ratios = [o["seconds"] / f["seconds"] for o, f in runs]
    cpu_ratios = [o["cpu"] / f["cpu"] for o, f in runs]
    ours = min((o for o, _f in runs), key=lambda o: o["seconds"])
    floor = min((f for _o, f in runs), key=lambda f: f["seconds"])

    def spread(values: list[float], unit: str = " s") -> str:
        return f"{min(values):.2f}–{max(values):.2f}{unit}"

    print(f"members {ours['members']:,}  applications {ours['applications']:,}  "
          f"({len(runs)} alternated runs of each side)")
    print(f"  import   {spread([o['seconds'] for o, _f in runs])}  (best: balances "
          f"{ours['balances_seconds']:.1f} s, applications {ours['applications_seconds']:.1f} s)"
          f"  CPU {spread([o['cpu'] for o, _f in runs])}  peak "
          f"{max(o['rss'] for o, _f in runs) // 1024} MB")
    print("  write lock held " + "; ".join(
        "balances " + ", ".join(f"{h:.1f}" for h in o["held"][:1]) + " s, applications "
        + ", ".join(f"{h:.1f}" for h in o["held"][1:]) + " s" for o, _f in runs)
        + "  (the rest of the import reads only)")
    print(f"  floor    {spread([f['seconds'] for _o, f in runs])}  CPU "
          f"{spread([f['cpu'] for _o, f in runs])}  peak "
          f"{max(f['rss'] for _o, f in runs) // 1024} MB")
    print(f"  ratio    x{ours['seconds'] / floor['seconds']:.2f} best against best; pairs "
          + ", ".join(f"x{r:.2f}" for r in ratios) + "; CPU pairs "
          + ", ".join(f"x{r:.2f}" for r in cpu_ratios) + "  (target: within x2)")
    print(f"  the floor reads both files with the csv module and writes the rows the import "
          f"left, {sum(floor['written'].values()):,} in all "
          f"({', '.join(f'{t} {n:,}' for t, n in floor['written'].items())}), "
          "by executemany into the same schema, in one transaction")
    print(f"  states   {json.dumps(ours['states'], ensure_ascii=False)}")


if __name__ == "__main__":
    main()
