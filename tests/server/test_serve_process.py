"""`hosho serve` as a process: health, a call, and a clean stop on SIGTERM; its log
names services and operator ids, never what was typed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.domain.roles import SYSTEM_ACTOR, Role
from app.remote.gateway import RemoteGateway
from app.services import intake, operators, settings
from app.services.context import AppContext
from app.storage.db import Database
from tests.conftest import PASSWORD
from tests.server.conftest import Values, free_port
from tests.services.helpers import incident, victim

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_serve_answers_and_stops_cleanly(tmp_path, sqlite_template):
    path = tmp_path / "centre.sqlite3"
    shutil.copy(sqlite_template, path)
    ctx = AppContext(Database(str(path)))
    settings.change_many(ctx, SYSTEM_ACTOR, {"operator_second_factor": "relaxed"})
    operators.add_operator(ctx, SYSTEM_ACTOR, "op1", "OP1", Role.OPERATOR, PASSWORD)
    ctx.db.dispose()
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "app.main", "serve", "--db", str(path),
                                "--listen", f"127.0.0.1:{port}"], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):  # waiting for start-up, not measuring it
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        desk = Values(RemoteGateway(f"http://127.0.0.1:{port}"))
        desk.sign_in("op1", PASSWORD)
        case = desk.write(intake.take_phone_intake, victim(phone="090-8765-4321"), incident())
        assert case.case_number.startswith("H-")
        desk.close()
    finally:
        process.send_signal(signal.SIGTERM)
        _out, log = process.communicate(timeout=60)
    # uvicorn finishes the running calls, then ends by the signal it was sent (as
    # systemd expects of a service stopped with SIGTERM).
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in log, log
    assert "write intake.take_phone_intake by operator" in log
    assert "山田" not in log and "090-8765-4321" not in log and PASSWORD not in log
