"""Screenshots of the main screens for docs/screenshots/, from a fresh demo database.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py

Uses the real widgets with the bundled fonts, as an operator would see them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402

from app.core.clock import FixedClock, jst_datetime  # noqa: E402
from app.services import demo, operators  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.storage import migrate  # noqa: E402
from app.storage.db import Database  # noqa: E402
from app.ui.application import make_app  # noqa: E402
from app.ui.desk import Desk  # noqa: E402
from app.ui.enrol_dialog import EnrolDialog  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.signin import SignInDialog  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def wait(app, desk: Desk | None = None, ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    while desk is not None and desk.lane.busy:
        app.processEvents()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    app = make_app()
    folder = tempfile.mkdtemp()
    db = Database(str(Path(folder) / "shots.sqlite3"))
    migrate.upgrade(db)
    ctx = AppContext(db, FixedClock(jst_datetime(2019, 8, 26, 10, 30)))
    demo.build_demo(ctx)
    signin = SignInDialog(ctx)
    signin.login.setText("sato")
    signin.show()
    wait(app)
    signin.grab().save(str(OUT / "sign_in.png"))
    operator = operators.authenticate(ctx, "sato", demo.DEMO_PASSWORD)
    desk = Desk(ctx, operator.as_actor())
    window = MainWindow(desk, operator.display_name)
    window.resize(1440, 860)
    window.show()
    wait(app, desk)
    window.cases.table.selectRow(2)
    wait(app, desk, 600)
    window.grab().save(str(OUT / "case_list.png"))
    window.cases.detail.tabs.setCurrentIndex(6)  # the timeline
    wait(app, desk)
    window.grab().save(str(OUT / "case_timeline.png"))
    for key, name in (("dashboard", "dashboard"), ("approvals", "approvals"),
                      ("audit", "audit_log")):
        window.show_page(key)
        wait(app, desk, 800)
        window.grab().save(str(OUT / f"{name}.png"))
    window.show_page("queue")
    wait(app, desk)
    window.next_case()  # Ctrl+J on the queue: take the next person to call
    wait(app, desk, 600)
    window.grab().save(str(OUT / "queue.png"))
    window.show_page("cases")
    dialog = window.new_intake()
    dialog.edits["name"].setText("山田 太郎")
    dialog.edits["phone"].setText("090-1234-5678")
    dialog.occurred.setText("令和元年7月3日 14時05分")
    dialog.amount.setText("１０，０００円")
    wait(app, desk)
    dialog.grab().save(str(OUT / "phone_intake.png"))
    dialog.reject()
    admin = operators.authenticate(ctx, "admin", demo.DEMO_PASSWORD)
    admin_window = MainWindow(Desk(ctx, admin.as_actor()), admin.display_name)
    admin_window.resize(1440, 860)
    admin_window.show()
    admin_window.show_page("settings")
    wait(app, admin_window.desk, 600)
    admin_window.grab().save(str(OUT / "settings.png"))
    # A supervisor's first sign-in: the authenticator set-up (kimura has none yet).
    kimura = operators.authenticate(ctx, "kimura", demo.DEMO_PASSWORD)
    enrol = EnrolDialog(ctx, kimura.as_actor())
    enrol.show()
    wait(app, None, 600)
    while enrol.lane.busy:
        app.processEvents()
    enrol.grab().save(str(OUT / "totp_enrolment.png"))
    enrol.reject()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
