"""Start-up to the sign-in window (target: well under 2 s).

    .venv/bin/python -m tests.benchmarks.bench_startup

The time from launching the process to the sign-in dialog on screen, on an
existing demo database, beside a bare PySide6 process that shows one label.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

OURS = """
import sys
from PySide6.QtCore import QTimer
from app.services.opening import open_context
from app.ui.application import make_app
from app.ui.signin import SignInDialog
app = make_app()
dialog = SignInDialog(open_context(sys.argv[1]))
dialog.show()
QTimer.singleShot(0, lambda: (print("shown", flush=True), app.quit()))
app.exec()
"""

BASELINE = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel("hello")
label.show()
QTimer.singleShot(0, lambda: (print("shown", flush=True), app.quit()))
app.exec()
"""


def launch(script: str, *args: str) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                               text=True, env=env)
    assert process.stdout.readline().strip() == "shown"
    elapsed = time.perf_counter() - started
    process.wait(timeout=30)
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "demo.sqlite3")
        subprocess.run([sys.executable, "-m", "app.main", "demo", "--db", db], check=True,
                       capture_output=True)
        ours = statistics.median(launch(OURS, db) for _ in range(5))
        base = statistics.median(launch(BASELINE) for _ in range(5))
    print(f"start-up to sign-in   {ours * 1000:7.0f} ms   baseline (bare PySide6 label) "
          f"{base * 1000:7.0f} ms   target < 2000 ms")


if __name__ == "__main__":
    main()
