"""Importing 440,000 closing balances and 100,000 refund applications (CP932 files)
into an empty database, beside the floor of writing the same rows into the same schema.

    .venv/bin/python -m tests.benchmarks.bench_refunds [--members N] [--applications N]

The floor reads the same files with Python's csv module and inserts each row's cells
straight into refund_member and refund_application (the same migrated schema, the
same indexes) with sqlite3.executemany: no checking, matching, deciding or audit.
Target (issue #17): the imports within 2 times the floor.
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
db = Database(sys.argv[1]); migrate.upgrade(db)
ctx = AppContext(db)
started = time.perf_counter()
balances = import_balances(ctx, SYSTEM_ACTOR, sys.argv[2])
middle = time.perf_counter()
applications = import_applications(ctx, SYSTEM_ACTOR, sys.argv[3])
ended = time.perf_counter()
print(json.dumps({"balances_seconds": middle - started, "applications_seconds": ended - middle,
                  "seconds": ended - started,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "members": balances.accepted, "applications": applications.accepted,
                  "states": applications.states}))
"""

FLOOR = """
import csv, json, resource, sqlite3, sys, time
from app.storage import migrate
from app.storage.db import Database
db = Database(sys.argv[1]); migrate.upgrade(db); db.dispose()
started = time.perf_counter()
connection = sqlite3.connect(sys.argv[1])
now = "2020-03-01 00:00:00.000000"
with open(sys.argv[2], encoding="cp932", newline="") as handle:
    rows = csv.reader(handle); next(rows)
    connection.executemany(
        "INSERT INTO refund_member (member_id, balance, fraud_charge_balance, name, name_kana,"
        " kana_key, phone, phone_digits, email, email_key, closed_on, content_hash, created_at)"
        " VALUES (?, ?, ?, ?, ?, '', ?, '', ?, '', ?, '', ?)",
        ((r[0], int(r[1].replace(",", "")), int(r[2]) if r[2] else None, r[3], r[4], r[5],
          r[6] or None, r[7] or None, now)
         for r in rows))
with open(sys.argv[3], encoding="cp932", newline="") as handle:
    rows = csv.reader(handle); next(rows)
    connection.executemany(
        "INSERT INTO refund_application (application_id, content_hash, member_id, name,"
        " name_kana, phone, route, applied_at, method, bank_code, branch_code, account_type,"
        " account_number, holder_kana, state, created_at, updated_at, version)"
        " VALUES (?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'x', ?, ?, 1)",
        ((*r[:13], now, now) for r in rows))
connection.commit()
print(json.dumps({"seconds": time.perf_counter() - started,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        balances, apps = make_files(base, args.members, args.applications)
        ours = _run(OURS, str(base / "ours.sqlite3"), str(balances), str(apps))
        floor = _run(FLOOR, str(base / "floor.sqlite3"), str(balances), str(apps))
    ratio = ours["seconds"] / floor["seconds"]
    print(f"members {ours['members']:,}  applications {ours['applications']:,}")
    print(f"  import   {ours['seconds']:7.1f} s  (balances {ours['balances_seconds']:.1f} s, "
          f"applications {ours['applications_seconds']:.1f} s)  peak {ours['rss'] // 1024} MB")
    print(f"  floor    {floor['seconds']:7.1f} s  peak {floor['rss'] // 1024} MB")
    print(f"  ratio    {ratio:7.2f}x  (target: within 2x)")
    print(f"  states   {json.dumps(ours['states'], ensure_ascii=False)}")


if __name__ == "__main__":
    main()
