"""Shared helpers for the benchmarks: a cached demo database and timing."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from app.services.context import AppContext
from app.services.demo import build_demo
from app.storage import migrate
from app.storage.db import Database

BENCH_DIR = Path(os.environ.get("HOSHO_BENCH_DIR", Path(__file__).resolve().parents[2] / ".bench"))


def demo_database(victims: int) -> Path:
    """A demo database of this size, built once and kept for later runs."""
    BENCH_DIR.mkdir(exist_ok=True)
    path = BENCH_DIR / f"demo-{victims}.sqlite3"
    if not path.exists():
        print(f"building the demo programme with {victims:,} victims (kept in {path}) …",
              flush=True)
        temp = path.with_suffix(".building")
        for leftover in BENCH_DIR.glob(temp.name + "*"):
            leftover.unlink()
        db = Database(str(temp))
        migrate.upgrade(db)
        started = time.perf_counter()
        build_demo(AppContext(db), victims=victims)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("ANALYZE")
        db.dispose()
        temp.rename(path)
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def timed(action: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time in seconds over ``repeat`` runs (after one warm-up)."""
    action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def report(name: str, figure: float, baseline: float, target: str) -> None:
    ratio = figure / baseline if baseline else float("inf")
    print(f"{name:<44} {figure * 1000:9.1f} ms   baseline {baseline * 1000:8.1f} ms   "
          f"x{ratio:5.1f}   target {target}")
