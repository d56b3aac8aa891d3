"""50 desks on one centre server: the real remote client on loopback against
`hosho serve` (a process of its own) on PostgreSQL.

    HOSHO_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        python tests/benchmarks/bench_centre.py [--desks 50] [--rounds 10] [--workers 1]

Each desk signs in as its own operator and runs a fixed number of rounds of: search,
next case from the queue, record an attempt, edit the victim, open the dashboard, and
one verification (a case of its own). Prints operations per second, p50/p95 per kind,
errors, lost updates (notes written but not stored; must be 0) and cases handed to
two desks at once (must be 0). Target: p95 under 300 ms for searches and queue work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.core.errors import ConflictError, HoshoError  # noqa: E402
from app.domain.roles import SYSTEM_ACTOR, Role  # noqa: E402
from app.remote.gateway import RemoteGateway  # noqa: E402
from app.services import cases, dashboard, operators, queue, settings, victims  # noqa: E402
from app.services.case_search import CaseQuery, list_cases  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.services.demo import build_demo  # noqa: E402
from app.services.gateway import Outcome  # noqa: E402
from app.services.intake import VictimInput  # noqa: E402
from app.services.outreach import AttemptInput, Method, record_attempt  # noqa: E402
from app.services.outreach import Outcome as Answer  # noqa: E402
from app.storage import migrate  # noqa: E402
from app.storage.db import Database  # noqa: E402
from app.storage.models import CaseNote  # noqa: E402

PASSWORD = "benchmark tables all day long"
FAILED = object()  # what ``timed`` returns for a refused or failed call
SEARCHES = ["山田", "佐藤", "090", "H-00001", "タナカ", "鈴木"]


class Figures:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.conflicts: dict[str, int] = defaultdict(int)
        self.notes_written = 0
        self.held: dict[int, int] = {}
        self.double_handed = 0

    def timed(self, kind: str, call, *args, **kwargs):
        started = time.perf_counter()
        try:
            answer = call(*args, **kwargs)
            return answer.value if isinstance(answer, Outcome) else answer  # a write's
        except ConflictError:
            with self.lock:
                self.conflicts[kind] += 1
            return FAILED
        except HoshoError as exc:
            with self.lock:
                self.errors[f"{kind}: {type(exc).__name__}"] += 1
            return FAILED
        finally:
            with self.lock:
                self.times[kind].append((time.perf_counter() - started) * 1000)


def prepare(pg_url: str, desks: int) -> str:
    name = f"hosho_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    migrate.upgrade(db)
    ctx = AppContext(db)
    print("building the demo programme …", flush=True)
    build_demo(ctx)
    settings.change_many(ctx, SYSTEM_ACTOR, {"operator_second_factor": "relaxed",
                                             "idle_lock_minutes": 60})
    for n in range(desks):
        operators.add_operator(ctx, SYSTEM_ACTOR, f"desk{n:02d}", f"Desk {n}", Role.OPERATOR,
                               PASSWORD)
    db.dispose()
    return url


def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "app.main", "serve", "--db", url,
                                "--listen", f"127.0.0.1:{port}", "--workers", str(workers)],
                               env=env,
                               stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def one_desk(server: str, n: int, rounds: int, figures: Figures, start: threading.Barrier):
    desk = RemoteGateway(server)
    desk.sign_in(f"desk{n:02d}", PASSWORD)
    start.wait()
    for r in range(rounds):
        figures.timed("search", desk.read, list_cases, CaseQuery(text=SEARCHES[(n + r) % 6]),
                      50)
        held = figures.timed("queue: next case", desk.write, queue.next_case)
        if held is not None and held is not FAILED:
            with figures.lock:
                if held.case_id in figures.held and figures.held[held.case_id] != n:
                    figures.double_handed += 1
                figures.held[held.case_id] = n
            case = figures.timed("open case", desk.write, cases.get_case, held.case_id)
            if case is not FAILED:
                v = case.victim
                data = VictimInput(name=v.name, name_kana=v.name_kana, member_id=v.member_id,
                                   phone=v.phone, email=v.email, postal_code=v.postal_code,
                                   address=v.address, contact_received_at=v.contact_received_at)
                figures.timed("edit victim", desk.write, victims.update_victim, v.id, data,
                              v.version)
                if figures.timed("add note", desk.write, cases.add_note, case.id,
                                 f"desk {n} round {r}") is not FAILED:
                    with figures.lock:
                        figures.notes_written += 1
            with figures.lock:
                figures.held.pop(held.case_id, None)
            figures.timed("queue: record attempt", desk.write, record_attempt, held.case_id,
                          AttemptInput(Method.PHONE, Answer.NO_ANSWER))
        figures.timed("dashboard", desk.read, dashboard.dashboard)
    desk.sign_out()
    desk.close()


def report(figures: Figures, seconds: float, url: str) -> None:
    total = sum(len(v) for v in figures.times.values())
    print(f"\n{total:,} operations in {seconds:.1f} s: {total / seconds:,.0f} per second")
    print(f"{'kind':<24}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}")
    for kind, times in sorted(figures.times.items()):
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{kind:<24}{len(times):>8}{statistics.median(times):>10.0f}{p95:>10.0f}")
    db = Database(url)
    with db.read() as session:
        stored = session.execute(select(func.count()).select_from(CaseNote)).scalar_one()
    db.dispose()
    print(f"errors: {sum(figures.errors.values())} {dict(figures.errors) or ''}")
    print(f"refused as stale (a conflict, not lost): {sum(figures.conflicts.values())} "
          f"{dict(figures.conflicts) or ''}")
    print(f"lost updates: {figures.notes_written - stored} (notes written "
          f"{figures.notes_written}, stored {stored})")
    print(f"cases handed to two desks at once: {figures.double_handed}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--desks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    pg_url = os.environ.get("HOSHO_TEST_PG_URL")
    if not pg_url:
        raise SystemExit("set HOSHO_TEST_PG_URL to a PostgreSQL server")
    url = prepare(pg_url, args.desks)
    server = start_server(url, args.port, args.workers)
    figures = Figures()
    start = threading.Barrier(args.desks + 1)
    threads = [threading.Thread(target=one_desk, args=(f"http://127.0.0.1:{args.port}", n,
                                                       args.rounds, figures, start))
               for n in range(args.desks)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    server.terminate()
    server.wait(60)
    report(figures, seconds, url)
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
