"""Importing a 100,000-row CP932 file into an empty database.

    .venv/bin/python -m tests.benchmarks.bench_import [--rows N]

Each side runs in its own process so that its peak memory (max RSS) is its
own. The baseline reads the same file with Python's csv module and inserts
the raw rows into one table with sqlite3.executemany. Targets: within 5 times
the baseline's time, peak memory under 300 MB.
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
started = time.perf_counter()
summary = import_incidents(AppContext(db), SYSTEM_ACTOR, sys.argv[2])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "accepted": summary.accepted, "read": summary.read, "driver": in_driver[0],
                  "written": summary.victims_created + summary.cases_created + summary.accepted}))
"""

BASELINE = """
import csv, json, resource, sqlite3, sys, time
started = time.perf_counter()
connection = sqlite3.connect(sys.argv[1])
connection.execute("CREATE TABLE raw (" + ", ".join(f"c{i}" for i in range(16)) + ")")
with open(sys.argv[2], encoding="cp932", newline="") as handle:
    rows = csv.reader(handle)
    next(rows)
    connection.executemany("INSERT INTO raw VALUES (" + ",".join("?" * 16) + ")", rows)
connection.commit()
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def run(script: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "incidents.csv"
        make_file(source, rows)
        ours = run(OURS, str(Path(folder) / "ours.sqlite3"), str(source))
        base = run(BASELINE, str(Path(folder) / "base.sqlite3"), str(source))
    assert ours["read"] == rows == ours["accepted"], ours
    ratio = ours["seconds"] / base["seconds"]
    print(f"import of {rows:,} CP932 rows")
    print(f"  hosho import   {ours['seconds']:7.2f} s  {rows / ours['seconds']:9,.0f} rows/s  "
          f"peak {ours['rss'] / 1024:6.0f} MB")
    print(f"  baseline       {base['seconds']:7.2f} s  {rows / base['seconds']:9,.0f} rows/s  "
          f"peak {base['rss'] / 1024:6.0f} MB")
    print(f"  ratio x{ratio:.1f} (target x5.0), peak memory target 300 MB")
    print(f"  of hosho's time, {ours['driver']:.2f} s (x{ours['driver'] / base['seconds']:.1f} "
          f"the baseline) is the database's own work: {ours['written']:,} victim, case and "
          "incident rows plus their audit events, with the indexes the case list needs")


if __name__ == "__main__":
    main()
