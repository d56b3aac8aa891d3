"""Screenshots of the windows issue 16 changed, for docs/screenshots/ (a small demo).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/desk_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QFileDialog  # noqa: E402

from app.core.clock import DemoClock, FixedClock, jst_datetime  # noqa: E402
from app.domain.states import Status  # noqa: E402
from app.services import cases, demo, intake, operators  # noqa: E402
from app.services.cases import MoveRequest  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.services.outreach import Outcome  # noqa: E402
from app.storage import migrate  # noqa: E402
from app.storage.db import Database  # noqa: E402
from app.ui.application import make_app  # noqa: E402
from app.ui.desk import Desk  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.prompts import Prompter  # noqa: E402
from app.ui.signin import FirstAdminDialog, SignInDialog  # noqa: E402
from app.ui.wheel_guard import install_wheel_guard  # noqa: E402
from tests.services.helpers import incident, victim  # noqa: E402
from tools.screenshots import wait  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def window_for(ctx, login: str) -> MainWindow:
    view = next(o for o in operators.list_operators(ctx) if o.login == login)
    window = MainWindow(Desk(ctx, view.as_actor(), Prompter()), view.display_name)
    window.resize(1400, 860)
    window.show()
    return window


def main() -> None:
    app = make_app()
    install_wheel_guard(app)
    folder = tempfile.mkdtemp()
    empty = Database(str(Path(folder) / "empty.sqlite3"))
    migrate.upgrade(empty)
    first = FirstAdminDialog(AppContext(empty))
    first.login.setText("chief")
    first.display_name.setText("責任者 一郎")
    first.show()
    wait(app)
    first.grab().save(str(OUT / "first_admin.png"))
    db = Database(str(Path(folder) / "shots.sqlite3"))
    migrate.upgrade(db)
    ctx = AppContext(db, FixedClock(jst_datetime(2019, 8, 26, 10, 30)))
    demo.build_demo(ctx, victims=200, seed=7)
    paused = SignInDialog(ctx)
    paused.show()
    for _ in range(operators.FAILURES_BEFORE_LOCK):
        paused.login.setText("tanaka")
        paused.password.setText("not the password")
        paused.submit()
        while paused.lane.busy or not paused.buttons.isEnabled():
            app.processEvents()
    paused.grab().save(str(OUT / "sign_in_paused.png"))
    ctx.clock = DemoClock(real=FixedClock(jst_datetime(2019, 8, 26, 10, 30)))
    ctx.clock.start = jst_datetime(2019, 8, 26, 10, 30)
    tanaka = window_for(ctx, "ito")
    wait(app, tanaka.desk)
    tanaka.show_page("queue")
    tanaka.queue.take_next()
    wait(app, tanaka.desk, 400)
    queue = tanaka.queue
    queue.outcome.setCurrentIndex(queue.outcome.findData(Outcome.NO_ANSWER.value))
    queue.record()
    wait(app, tanaka.desk, 600)
    tanaka.queue.take_next()
    wait(app, tanaka.desk, 600)
    tanaka.grab().save(str(OUT / "queue.png"))
    tanaka.show_page("cases")
    number = tanaka.cases.model.rows[3].case_number
    tanaka.cases.search.setText(number[:-1] + str((int(number[-1]) + 1) % 10))
    tanaka.cases.open_first()
    wait(app, tanaka.desk, 800)
    tanaka.grab().save(str(OUT / "search_check_digit.png"))
    actor = tanaka.desk.actor
    case = intake.take_phone_intake(ctx, actor, victim(name="髙橋 一郎", phone="090-7000-1234"),
                                    incident())
    cases.move_case(ctx, actor, case.id, MoveRequest(Status.CONTACTED))
    tanaka.cases.search.setText("高橋一郎")
    tanaka.cases.apply_filters()
    wait(app, tanaka.desk, 800)
    rows = tanaka.cases.model.rows
    tanaka.cases.table.selectRow(next(i for i, r in enumerate(rows) if r.id == case.id))
    wait(app, tanaka.desk, 800)
    tanaka.grab().save(str(OUT / "case_blocked_moves.png"))
    tanaka.cases.search.setText("")
    tanaka.cases.apply_filters()
    wait(app, tanaka.desk, 800)
    tanaka.cases.table.selectRow(2)
    wait(app, tanaka.desk, 600)
    tanaka.grab().save(str(OUT / "case_list.png"))
    sato = window_for(ctx, "sato")
    sato.show_page("dashboard")
    wait(app, sato.desk, 1200)
    sato.grab().save(str(OUT / "dashboard.png"))
    sato.show_page("audit")
    wait(app, sato.desk, 800)
    audit = sato.audit
    for row in range(len(audit.rows)):
        if audit.rows[row].before and audit.rows[row].after:
            audit.table.selectRow(row)
            break
    wait(app, sato.desk, 400)
    sato.grab().save(str(OUT / "audit_log.png"))
    admin = window_for(ctx, "admin")
    admin.show_page("settings")
    wait(app, admin.desk, 600)
    admin.grab().save(str(OUT / "settings.png"))
    admin.show_page("operators")
    wait(app, admin.desk, 600)
    admin.operators.table.selectRow(3)
    admin.grab().save(str(OUT / "operators.png"))
    dialog = QFileDialog(admin, "ファイルを開く")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.resize(760, 460)
    dialog.show()
    wait(app)
    dialog.grab().save(str(OUT / "qt_file_dialog_ja.png"))
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
