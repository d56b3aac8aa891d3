"""`hosho --demo` as the README's run command uses it: a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from app.services.stats import programme_stats


def test_demo_command_builds_the_demo_and_opens_sign_in(tmp_path):
    env = {**os.environ, "HOSHO_DATA_DIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    process = subprocess.Popen([sys.executable, "-m", "app.main", "--demo"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log = tmp_path / "logs" / "hosho.log"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if log.exists() and "sign-in window shown" in log.read_text(encoding="utf-8"):
                break
            time.sleep(0.2)
        assert process.poll() is None, process.stderr.read().decode()
        assert "sign-in window shown" in log.read_text(encoding="utf-8")
    finally:
        process.kill()
        process.wait(timeout=10)
    from app.services.context import AppContext
    from app.storage.db import Database

    figures = programme_stats(AppContext(Database(str(Path(tmp_path) / "demo.sqlite3"))))
    assert figures["victims"] == 808 and figures["claimed_total"] == 38_615_473
