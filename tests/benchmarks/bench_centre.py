"""50 desks on one centre server: the real remote client on loopback against
`hosho serve` (a process of its own) on PostgreSQL.

    HOSHO_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        python tests/benchmarks/bench_centre.py [--desks 50] [--rounds 10] [--workers 1]
        [--pace SECONDS]

Each desk signs in as its own operator and runs a fixed number of rounds of: search,
next case from the queue, record an attempt, edit the victim, open the dashboard, and
one verification (a case of its own). Prints operations per second, p50/p95 per kind,
errors, lost updates (notes written but not stored; must be 0) and cases handed to
two desks at once (must be 0). Target: p95 under 300 ms for searches and queue work.

Beside them: the baseline (an authenticated round trip that runs no service, from the
same desks at once, measured just before), the CPU seconds the desks, the server and
PostgreSQL spent and how busy the machine was, the load average (other work on the
machine), and per service the time the server itself spent in it (its log). Desks
never pause by default (each starts its next operation as the last one answers);
``--pace 2`` has each start one every two seconds, still far busier than a person.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
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
    def __init__(self, pace: float = 0.0) -> None:
        # pace: the seconds a desk takes between the starts of two operations (a person
        # reads, types, talks); 0 for desks that never pause.
        self.pace = pace
        self._next = threading.local()
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.conflicts: dict[str, int] = defaultdict(int)
        self.notes_written = 0
        self.held: dict[int, int] = {}
        self.double_handed = 0

    def _paced(self) -> None:
        """With a pace, wait for this desk's next start (the first spread at random over
        one pace, so that the desks do not all start together)."""
        if not self.pace:
            return
        now = time.perf_counter()
        due = getattr(self._next, "at", None)
        if due is None:
            due = now + random.random() * self.pace
        time.sleep(max(0.0, due - now))
        self._next.at = max(due + self.pace, time.perf_counter())

    def timed(self, kind: str, call, *args, **kwargs):
        self._paced()
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


def start_server(url: str, port: int, workers: int, log) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "app.main", "serve", "--db", url,
                                "--listen", f"127.0.0.1:{port}", "--workers", str(workers)],
                               env=env, stderr=log)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def signed_in(server: str, n: int) -> RemoteGateway:
    """Desk n signed in; a few tries, as server processes of --workers may still be
    starting when the first one answers /health."""
    for attempt in range(10):
        desk = RemoteGateway(server)
        try:
            desk.sign_in(f"desk{n:02d}", PASSWORD)
            return desk
        except HoshoError:
            desk.close()
            if attempt == 9:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


def one_desk(server: str, n: int, rounds: int, figures: Figures, start: threading.Barrier):
    try:
        desk = signed_in(server, n)
    finally:
        start.wait(timeout=120)  # a desk that could not sign in does not hang the others
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


def floor(server: str, n: int, calls: int, times: list[float], start: threading.Barrier):
    """The baseline: an authenticated round trip that runs no service (``GET /time``:
    the session looked up, the clock read), from the same 50 desks at once."""
    try:
        desk = signed_in(server, n)
    finally:
        start.wait(timeout=120)
    for _ in range(calls):
        began = time.perf_counter()
        desk.now()
        times.append((time.perf_counter() - began) * 1000)
    desk.sign_out()
    desk.close()


def run_floor(server: str, desks: int, calls: int) -> tuple[list[float], float]:
    times: list[float] = []
    start = threading.Barrier(desks + 1)
    threads = [threading.Thread(target=floor, args=(server, n, calls, times, start))
               for n in range(desks)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return sorted(times), time.perf_counter() - began


def _ticks(pid: str) -> tuple[int, int, str]:
    """(ppid, user+system clock ticks, command name) of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), name


class Cpu:
    """CPU seconds spent by the benchmark's desks (this process), the server (its
    process tree) and PostgreSQL (every postgres process, other work's included),
    and how busy the machine was."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.start = self._now()

    def _now(self) -> dict[str, float]:
        hz = os.sysconf("SC_CLK_TCK")
        procs = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                procs[int(pid)] = _ticks(pid)
            except (OSError, ValueError, IndexError):
                continue
        tree, grown = {self.server_pid}, True
        while grown:
            more = {pid for pid, (ppid, _t, _n) in procs.items() if ppid in tree} - tree
            tree |= more
            grown = bool(more)
        with open("/proc/stat") as stat:
            cpu = [int(v) for v in stat.readline().split()[1:]]
        usage = os.times()
        return {"desks": usage.user + usage.system,
                "server": sum(procs[p][1] for p in tree if p in procs) / hz,
                "postgresql": sum(t for _pp, t, name in procs.values()
                                  if name.startswith("postgres")) / hz,
                "busy": (sum(cpu) - cpu[3] - cpu[4]) / hz, "all": sum(cpu) / hz}

    def report(self) -> str:
        end = self._now()
        spent = {k: end[k] - self.start[k] for k in end}
        share = spent["busy"] / spent["all"] if spent["all"] else 0
        return (f"CPU seconds: desks {spent['desks']:.1f}, server {spent['server']:.1f}, "
                f"PostgreSQL {spent['postgresql']:.1f}; machine busy {share:.0%} "
                f"of {os.cpu_count()} cores")


def server_times(log_path: Path) -> dict[str, list[float]]:
    """Per service, the time the server spent running it (its own log lines)."""
    found: dict[str, list[float]] = defaultdict(list)
    for line in log_path.read_text(errors="replace").splitlines():
        match = re.search(r" (read|write) (\S+) by operator \d+ in (\d+) ms", line)
        if match:
            found[match.group(2)].append(float(match.group(3)))
    return found


def _p(times: list[float], q: float) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, int(len(times) * q))] if times else float("nan")


def report(figures: Figures, seconds: float, url: str) -> None:
    total = sum(len(v) for v in figures.times.values())
    print(f"\n{total:,} operations in {seconds:.1f} s: {total / seconds:,.0f} per second")
    print(f"{'kind':<24}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}")
    for kind, times in sorted(figures.times.items()):
        print(f"{kind:<24}{len(times):>8}{statistics.median(times):>10.0f}"
              f"{_p(times, 0.95):>10.0f}")
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
    parser.add_argument("--pace", type=float, default=0.0,
                        help="seconds between the starts of a desk's operations "
                             "(0: desks never pause)")
    args = parser.parse_args()
    pg_url = os.environ.get("HOSHO_TEST_PG_URL")
    if not pg_url:
        raise SystemExit("set HOSHO_TEST_PG_URL to a PostgreSQL server")
    url = prepare(pg_url, args.desks)
    log_path = Path(tempfile.mkdtemp(prefix="hosho-bench-")) / "server.log"
    with open(log_path, "w") as log:
        server = start_server(url, args.port, args.workers, log)
    where = f"http://127.0.0.1:{args.port}"
    base, base_seconds = run_floor(where, args.desks, args.rounds * 6)
    cpu = Cpu(server.pid)
    figures = Figures(args.pace)
    start = threading.Barrier(args.desks + 1)
    threads = [threading.Thread(target=one_desk, args=(f"http://127.0.0.1:{args.port}", n,
                                                       args.rounds, figures, start))
               for n in range(args.desks)]
    for thread in threads:
        thread.start()
    start.wait()
    began, load_before = time.perf_counter(), os.getloadavg()[0]
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    used = cpu.report() + (f"; load average {load_before:.1f} before, "
                           f"{os.getloadavg()[0]:.1f} after")
    server.terminate()
    server.wait(60)
    print(f"\n{args.desks} desks, {args.rounds} rounds, {args.workers} server process(es), "
          f"pace {args.pace:g} s")
    report(figures, seconds, url)
    print(used)
    print(f"baseline, {len(base):,} authenticated round trips running no service (GET /time) "
          f"from the same {args.desks} desks: {len(base) / base_seconds:,.0f} per second, "
          f"p50 {statistics.median(base):.0f} ms, p95 {_p(base, 0.95):.0f} ms")
    print(f"{'at the server, per service':<34}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}")
    for service, times in sorted(server_times(log_path).items()):
        print(f"{service:<34}{len(times):>8}{statistics.median(times):>10.0f}"
              f"{_p(times, 0.95):>10.0f}")
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
