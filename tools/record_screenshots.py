"""Screenshots of sign-out / switch user, the recovery codes' keeping and the printable
case record, for docs/screenshots/ (a small demo on the demo's clock).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/record_screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyotp  # noqa: E402
from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtGui import QPainter  # noqa: E402

from app.core.clock import DemoClock, FixedClock  # noqa: E402
from app.domain.roles import SYSTEM_ACTOR, Role  # noqa: E402
from app.letters.model import LetterKind  # noqa: E402
from app.services import case_record, demo, letters, operators  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.storage import migrate  # noqa: E402
from app.storage.db import Database  # noqa: E402
from app.ui.application import DeskRun, make_app  # noqa: E402
from app.ui.desk import Desk  # noqa: E402
from app.ui.enrol_dialog import EnrolDialog  # noqa: E402
from app.ui.main_window import SWITCH_USER  # noqa: E402
from app.ui.prompts import Prompter  # noqa: E402
from app.ui.signin import SignInDialog  # noqa: E402
from tools.screenshots import wait  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def with_menu_open(app, window, menu) -> None:
    """A window's grab holds no pop-up: draw the open menu onto it where it stands."""
    bar = window.menuBar()
    action = menu.menuAction()
    spot = bar.mapTo(window, bar.actionGeometry(action).bottomLeft())
    menu.popup(window.mapToGlobal(spot))
    wait(app, None, 300)
    shot = window.grab()
    painter = QPainter(shot)
    painter.drawPixmap(QPoint(spot.x(), spot.y()), menu.grab())
    painter.end()
    menu.hide()
    return shot


def main() -> None:
    app = make_app()
    folder = tempfile.mkdtemp()
    db = Database(str(Path(folder) / "shots.sqlite3"))
    migrate.upgrade(db)
    ctx = AppContext(db, FixedClock(DemoClock.START))
    demo.build_demo(ctx, victims=200, seed=7)
    # A paid case with a payment notice and a long history: the record's example.
    notice = letters.produce_batch(ctx, SYSTEM_ACTOR,
                                   letters.BatchRequest(LetterKind.PAYMENT_NOTICE, limit=1),
                                   Path(folder) / "notice.pdf")
    case_id = notice.letters[0].case_id
    ctx.clock = DemoClock(real=FixedClock(DemoClock.START))
    view = next(o for o in operators.list_operators(ctx) if o.login == "sato")
    run = DeskRun(lambda: SignInDialog(ctx), lambda d: Desk(ctx, d.operator.as_actor()))
    window = run.show_window(Desk(ctx, view.as_actor(), Prompter()), view)
    window.resize(1400, 860)
    wait(app, window.desk, 600)
    window.open_case(case_id)
    wait(app, window.desk, 900)
    window.cases.detail.tabs.setCurrentIndex(window.cases.detail.tabs.count() - 1)
    wait(app, window.desk, 300)
    window.grab().save(str(OUT / "case_detail_print_record.png"))
    with_menu_open(app, window, window.account_menu).save(str(OUT / "account_menu.png"))
    pdf = Path(folder) / "case_record.pdf"
    case_record.export_case_record(ctx, SYSTEM_ACTOR, case_id, pdf)
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(OUT / "case_record")], check=True)
    window.sign_out(SWITCH_USER)
    wait(app, window.desk, 600)
    run.dialog.grab().save(str(OUT / "sign_in_switch_user.png"))
    run.dialog.reject()
    # Enrolment: the recovery codes, with the means to keep them.
    kimura = operators.add_operator(ctx, SYSTEM_ACTOR, "nakamura", "中村 直子", Role.SUPERVISOR,
                                    "a long and sturdy passphrase")
    enrol = EnrolDialog(ctx, kimura.as_actor())
    enrol.show()
    wait(app, None, 400)
    while enrol.lane.busy:
        app.processEvents()
    enrol.panel.code.setText(pyotp.TOTP(enrol.panel.enrolment.secret).at(ctx.clock.now()))
    enrol.submit()
    while not enrol.panel.done:
        app.processEvents()
    enrol.panel.keep.copy()
    wait(app, None, 500)
    while enrol.lane.busy:
        app.processEvents()
    enrol.adjustSize()
    wait(app, None, 200)
    enrol.grab().save(str(OUT / "recovery_codes.png"))
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
