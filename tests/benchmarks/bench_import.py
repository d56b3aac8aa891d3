"""Importing a 100,000-row CP932 file into an empty database.

    .venv/bin/python -m tests.benchmarks.bench_import [--rows N] [--repeat N]

Each side runs in its own process so that its peak memory (max RSS) is its
own. The floor is the least any import of this file could do: read it with
Python's csv module, then write exactly the rows the import left (every table,
audit events included) with sqlite3.executemany into the same schema (the same
indexes and triggers), in one transaction. Targets: within 2 times the floor's
time, peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

SURNAMES = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("髙橋", "タカハシ"), ("田中", "タナカ"),
            ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ")]
GIVEN = [("太郎", "ﾀﾛｳ"), ("花子", "ﾊﾅｺ"), ("一郎", "ｲﾁﾛｳ"), ("美咲", "ﾐｻｷ"), ("翔太", "ｼｮｳﾀ")]
CHANNELS = ["クレジットカード", "デビット", "nanaco", "不正利用"]
HEADER = ("受付番号,7iD,氏名,フリガナ,電話番号,メールアドレス,郵便番号,住所,被害区分,発生日時,"
          "被害金額,カード会社,カード下4桁,連絡先受領日,利用店舗,備考\r\n")


def make_file(path: Path, rows: int, seed: int = 1) -> None:
    """Realistic rows: about two incidents a victim, yen signs, eras, half-width kana."""
    rng = random.Random(seed)
    with open(path, "w", encoding="cp932", newline="") as handle:
        handle.write(HEADER)
        for i in range(rows):
            victim = rng.randrange(rows // 2 + 1)
            (surname, s_kana), (given, g_kana) = SURNAMES[victim % 8], GIVEN[victim % 5]
            date = rng.choice(["2019/07/0{d} 1{h}:0{m}", "令和元年7月{d}日", "R1.7.{d}"]).format(
                d=rng.randint(1, 4), h=rng.randint(0, 9), m=rng.randint(0, 9))
            amount = rng.choice(["\\{:,}", "{:,}円", "{}"]).format(rng.randint(1, 50) * 1000)
            handle.write(
                f"R{i:08d},7i{victim:010d},{surname} {given},{s_kana} {g_kana},"
                f"090-{victim % 10000:04d}-{victim // 10000 % 10000:04d},,100-0005,"
                f"東京都千代田区丸の内{victim % 9 + 1}丁目,{rng.choice(CHANNELS)},{date},"
                f"\"{amount}\",,,2019/08/0{rng.randint(1, 9)},セブン-イレブン,\r\n")


OURS = """
import json, resource, sys, time
from sqlalchemy import Engine, event
from app.domain.roles import SYSTEM_ACTOR
from app.services.context import AppContext
from app.services.imports import import_incidents
from app.storage import migrate
from app.storage.db import Database
db = Database(sys.argv[1]); migrate.upgrade(db)
in_driver = [0.0, 0.0]  # seconds inside the database driver; start of the current statement
event.listen(Engine, "before_cursor_execute",
             lambda *a: in_driver.__setitem__(1, time.perf_counter()))
event.listen(Engine, "after_cursor_execute",
             lambda *a: in_driver.__setitem__(0, in_driver[0] + time.perf_counter() - in_driver[1]))
started, cpu = time.perf_counter(), time.process_time()
summary = import_incidents(AppContext(db), SYSTEM_ACTOR, sys.argv[2])
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu": cpu,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "accepted": summary.accepted, "read": summary.read, "driver": in_driver[0],
                  "written": summary.victims_created + summary.cases_created + summary.accepted}))
"""

FLOOR = """
import csv, json, resource, sqlite3, sys, time
from app.storage import migrate
from app.storage.db import Database
target, source, left = sys.argv[1], sys.argv[2], sys.argv[3]
db = Database(target); migrate.upgrade(db); db.dispose()  # same schema, indexes, triggers
# The rows the import left, table by table (read before the clock starts).
ours = sqlite3.connect(left)
fresh = sqlite3.connect(target)
plan = []
for (table,) in fresh.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                              "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"):
    columns = [row[1] for row in fresh.execute(f'PRAGMA table_info("{table}")')]
    keys = [row[1] for row in fresh.execute(f'PRAGMA table_info("{table}")') if row[5]]
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
written = sum(len(rows) for _sql, rows in plan)
started, cpu = time.perf_counter(), time.process_time()
connection = sqlite3.connect(target, isolation_level=None)
for pragma in ("journal_mode = WAL", "foreign_keys = ON", "synchronous = NORMAL",
               "cache_size = -16384"):  # as the program's connections
    connection.execute(f"PRAGMA {pragma}")
with open(source, encoding="cp932", newline="") as handle:
    read = sum(1 for _row in csv.reader(handle)) - 1
connection.execute("BEGIN IMMEDIATE")
for sql, rows in plan:
    connection.executemany(sql, rows)
connection.execute("COMMIT")
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu": cpu,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "read": read, "written": written, "tables": len(plan)}))
"""


def run(script: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each side, alternated (the machine's load varies)")
    options = parser.parse_args()
    rows = options.rows
    runs: list[tuple[dict, dict]] = []
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "incidents.csv"
        make_file(source, rows)
        for attempt in range(options.repeat):
            left = Path(folder) / f"ours{attempt}.sqlite3"
            ours = run(OURS, str(left), str(source))
            floor = run(FLOOR, str(Path(folder) / f"floor{attempt}.sqlite3"), str(source),
                        str(left))
            assert ours["read"] == rows == ours["accepted"] == floor["read"], (ours, floor)
            runs.append((ours, floor))
    ratios = sorted(o["seconds"] / f["seconds"] for o, f in runs)
    ours = min((o for o, _f in runs), key=lambda o: o["seconds"])
    floor = min((f for _o, f in runs), key=lambda f: f["seconds"])
    print(f"import of {rows:,} CP932 rows, best of {len(runs)} alternated runs each")
    print(f"  hosho import   {ours['seconds']:7.2f} s  {rows / ours['seconds']:9,.0f} rows/s  "
          f"peak {ours['rss'] / 1024:6.0f} MB")
    print(f"  floor          {floor['seconds']:7.2f} s  {rows / floor['seconds']:9,.0f} rows/s  "
          f"peak {floor['rss'] / 1024:6.0f} MB")
    print(f"  ratio x{ours['seconds'] / floor['seconds']:.2f} of the best runs (each pair: "
          + ", ".join(f"x{r:.2f}" for r in ratios) + "); target x2.0, peak memory 300 MB")
    cpu = min(o["cpu"] for o, _f in runs) / min(f["cpu"] for _o, f in runs)
    print(f"  CPU time (what the machine's other load does not inflate): hosho "
          f"{min(o['cpu'] for o, _f in runs):.2f} s, floor {min(f['cpu'] for _o, f in runs):.2f} s,"
          f" ratio x{cpu:.2f}")
    print(f"  the floor reads the file with the csv module, then writes exactly the "
          f"{floor['written']:,} rows the import left ({floor['tables']} tables: victims, cases, "
          "incidents, the batch, audit events, the audit head and counters) with executemany, "
          "into the same schema (indexes, triggers), in one transaction")
    print(f"  of hosho's time, {ours['driver']:.2f} s is inside the database driver")


if __name__ == "__main__":
    main()
