"""What synchronous=FULL costs: commits per second of a desk's small transactions.

    .venv/bin/python -m tests.benchmarks.bench_commit [--commits N] [--rounds R]

Each commit is one phone intake through the service (a victim, a case, an
incident and their audit events in one transaction), the size of most of
what a desk writes. The same run measures it with synchronous=FULL (the
program's setting: the WAL is synced at every commit, so a power cut keeps
every committed transaction) and with NORMAL (synced only at checkpoints),
alternating rounds so that both see the same machine load. The baseline is
plain sqlite3 committing one small row per transaction with each setting.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from app.domain.roles import SYSTEM_ACTOR
from app.services.context import AppContext
from app.services.intake import take_phone_intake
from app.storage import db as storage_db
from app.storage import migrate
from app.storage.db import Database
from tests.services.helpers import incident, victim


def _template(folder: Path) -> Path:
    path = folder / "template.sqlite3"
    db = Database(str(path))
    migrate.upgrade(db)
    db.dispose()
    return path


def _program_rate(template: Path, folder: Path, mode: str, commits: int, tag: str) -> float:
    storage_db.SYNCHRONOUS = mode  # read when each connection opens
    path = folder / f"{tag}-{mode}.sqlite3"
    shutil.copy(template, path)
    db = Database(str(path))
    ctx = AppContext(db)
    take_phone_intake(ctx, SYSTEM_ACTOR, victim(name="準備 太郎"), incident())  # warm-up
    started = time.perf_counter()
    for n in range(commits):
        take_phone_intake(ctx, SYSTEM_ACTOR, victim(name=f"佐藤 {n}"), incident())
    elapsed = time.perf_counter() - started
    db.dispose()
    return commits / elapsed


def _plain_rate(folder: Path, mode: str, commits: int, tag: str) -> float:
    path = folder / f"plain-{tag}-{mode}.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {mode}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, amount INTEGER)")
    started = time.perf_counter()
    for n in range(commits):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (name, amount) VALUES (?, ?)", (f"佐藤 {n}", 30_000))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return commits / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {k: [] for k in
                                     ("FULL", "NORMAL", "plain FULL", "plain NORMAL")}
    with tempfile.TemporaryDirectory(prefix="hosho-bench-commit-",
                                     dir=Path(__file__).resolve().parents[2]) as tmp:
        folder = Path(tmp)  # on the project's disk, not a RAM-backed /tmp
        template = _template(folder)
        for round_ in range(args.rounds):
            order = ("FULL", "NORMAL") if round_ % 2 == 0 else ("NORMAL", "FULL")
            for mode in order:
                rates[mode].append(_program_rate(template, folder, mode, args.commits,
                                                 str(round_)))
                rates[f"plain {mode}"].append(_plain_rate(folder, mode, args.commits * 5,
                                                          str(round_)))
    storage_db.SYNCHRONOUS = "FULL"
    median = {k: statistics.median(v) for k, v in rates.items()}
    for name, rate in median.items():
        spread = ", ".join(f"{r:,.0f}" for r in rates[name])
        print(f"{name:<14} {rate:9,.0f} commits/s  ({1000 / rate:6.2f} ms each; rounds: "
              f"{spread})")
    print(f"FULL costs {median['NORMAL'] / median['FULL']:.2f}x the time of NORMAL per "
          f"intake commit (plain sqlite3: "
          f"{median['plain NORMAL'] / median['plain FULL']:.2f}x)")


if __name__ == "__main__":
    main()
