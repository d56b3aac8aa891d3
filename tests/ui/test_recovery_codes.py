"""The recovery codes shown at enrolment can be copied, printed (to a PDF here, through
the print dialog's printer) and saved to an owner-only file; each keeping is audited
with the how and never with the codes (pytest-qt, the real enrolment dialog)."""

from __future__ import annotations

import os
import stat
import subprocess

import pyotp
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtPrintSupport import QPrinter
from sqlalchemy import text

from app.domain.roles import SYSTEM_ACTOR, Role
from app.services import operators, second_factor
from app.ui.enrol_dialog import EnrolDialog
from app.ui.prompts import ScriptedPrompter
from tests.conftest import PASSWORD

LEFT = Qt.MouseButton.LeftButton


class PdfPrinting(ScriptedPrompter):
    """The operator picks "print to file (PDF)" in the print dialog."""

    def __init__(self, pdf, files=None) -> None:
        super().__init__(files=files)
        self.pdf = str(pdf)

    def print_setup(self, parent, printer) -> bool:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(self.pdf)
        self.printers.append(printer)
        return True


def _enrolled(qtbot, ctx, prompter):
    view = operators.add_operator(ctx, SYSTEM_ACTOR, "sv9", "佐々木 由美", Role.SUPERVISOR,
                                  PASSWORD)
    dialog = EnrolDialog(ctx, view.as_actor(), prompter=prompter)
    qtbot.addWidget(dialog)
    dialog.show()
    panel = dialog.panel
    qtbot.waitUntil(lambda: panel.enrolment is not None, timeout=5000)
    panel.code.setText(pyotp.TOTP(panel.enrolment.secret).at(ctx.clock.now()))
    dialog.submit()
    qtbot.waitUntil(lambda: panel.done, timeout=5000)
    assert panel.keep.isVisible()
    return dialog, panel


def _trail(ctx) -> list[tuple]:
    with ctx.db.engine.connect() as conn:
        return conn.execute(text("SELECT * FROM audit_event ORDER BY id")).all()


def _kept(ctx) -> list[tuple[str, str]]:
    with ctx.db.engine.connect() as conn:
        return conn.execute(text("SELECT actor_login, after FROM audit_event WHERE action = "
                                 "'second_factor.recovery_codes_kept' ORDER BY id")).all()


def _codes_nowhere_in_the_trail(ctx, codes) -> None:
    trail = repr(_trail(ctx))
    normalised = trail.replace("-", "")
    for code in codes:
        assert code not in trail and code.replace("-", "") not in normalised


def test_copying_puts_the_codes_on_the_clipboard_and_is_audited(ui_app, qtbot, ui_ctx):
    _dialog, panel = _enrolled(qtbot, ui_ctx, ScriptedPrompter())
    with qtbot.waitSignal(panel.keep.kept, timeout=5000) as kept:
        qtbot.mouseClick(panel.keep.buttons["copied"], LEFT)
    assert kept.args == ["copied"]
    copied = QGuiApplication.clipboard().text()
    assert all(code in copied for code in panel.recovery_codes) and "sv9" in copied
    assert _kept(ui_ctx) == [("sv9", '{"kept": "copied"}')]
    _codes_nowhere_in_the_trail(ui_ctx, panel.recovery_codes)
    QGuiApplication.clipboard().clear()


def test_printing_to_a_pdf_prints_the_codes_in_japanese(ui_app, qtbot, ui_ctx, tmp_path):
    pdf = tmp_path / "codes.pdf"
    _dialog, panel = _enrolled(qtbot, ui_ctx, PdfPrinting(pdf))
    with qtbot.waitSignal(panel.keep.kept, timeout=5000):
        qtbot.mouseClick(panel.keep.buttons["printed"], LEFT)
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert all(code in words for code in panel.recovery_codes)
    assert "回復コード" in words and "sv9" in words
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout
    assert "BIZ" in fonts  # the bundled Japanese font, embedded: no boxes
    assert _kept(ui_ctx) == [("sv9", '{"kept": "printed"}')]
    _codes_nowhere_in_the_trail(ui_ctx, panel.recovery_codes)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_saving_writes_an_owner_only_file_and_is_audited(ui_app, qtbot, ui_ctx, tmp_path):
    target = tmp_path / "codes.txt"
    target.write_text("an older file, readable by all\n")
    target.chmod(0o644)
    _dialog, panel = _enrolled(qtbot, ui_ctx, ScriptedPrompter(files=[str(target)]))
    with qtbot.waitSignal(panel.keep.kept, timeout=5000):
        qtbot.mouseClick(panel.keep.buttons["saved"], LEFT)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    saved = target.read_text(encoding="utf-8")
    assert all(code in saved for code in panel.recovery_codes) and "older" not in saved
    assert str(target) in panel.keep.note.text()
    assert _kept(ui_ctx) == [("sv9", '{"kept": "saved"}')]
    _codes_nowhere_in_the_trail(ui_ctx, panel.recovery_codes)
    # Each keeping is recorded; a cancelled save records nothing.
    panel.keep.prompter.files.append(None)
    qtbot.mouseClick(panel.keep.buttons["saved"], LEFT)
    with qtbot.waitSignal(panel.keep.kept, timeout=5000):
        qtbot.mouseClick(panel.keep.buttons["copied"], LEFT)
    assert [after for _login, after in _kept(ui_ctx)] == ['{"kept": "saved"}',
                                                          '{"kept": "copied"}']


def test_the_service_takes_only_a_way_of_keeping(ui_ctx):
    view = operators.add_operator(ui_ctx, SYSTEM_ACTOR, "sv8", "SV8", Role.SUPERVISOR, PASSWORD)
    with pytest.raises(second_factor.ValidationError):
        second_factor.record_recovery_codes_kept(ui_ctx, view.as_actor(), "abcde-fghjk")
    assert _kept(ui_ctx) == []


def test_at_a_centre_desk_the_keeping_is_recorded_by_the_server(ui_app, qtbot, ui_ctx):
    """Through the session's gateway; a session still to choose its new password (an
    account an administrator just made) records it once the sign-in is complete."""
    from app.remote.gateway import RemoteGateway
    from app.ui.remote_signin import RemoteSignInDialog
    from tests.server.conftest import running_server

    operators.add_operator(ui_ctx, SYSTEM_ACTOR, "sv9", "佐々木 由美", Role.SUPERVISOR,
                           PASSWORD, must_change_password=True)
    with running_server(ui_ctx) as url:
        gateway = RemoteGateway(url)
        dialog = RemoteSignInDialog(gateway)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.login.setText("sv9")
        dialog.password.setText(PASSWORD)
        dialog.submit()
        qtbot.waitUntil(lambda: dialog.enrol is not None
                        and dialog.enrol.enrolment is not None, timeout=5000)
        panel = dialog.enrol
        panel.code.setText(pyotp.TOTP(panel.enrolment.secret).at(ui_ctx.clock.now()))
        dialog.submit()
        qtbot.waitUntil(lambda: panel.done, timeout=5000)
        assert gateway.stage == "new_password"
        qtbot.mouseClick(panel.keep.buttons["copied"], LEFT)
        assert _kept(ui_ctx) == [] and len(panel.deferred) == 1
        dialog.submit()  # on to the new password
        qtbot.waitUntil(lambda: dialog.stage == "new_password", timeout=5000)
        dialog.new_password.setText("a brand new passphrase")
        dialog.new_again.setText("a brand new passphrase")
        with qtbot.waitSignal(dialog.accepted, timeout=5000):
            dialog.submit()
        qtbot.waitUntil(lambda: _kept(ui_ctx) != [], timeout=5000)
        assert _kept(ui_ctx) == [("sv9", '{"kept": "copied"}')]
        _codes_nowhere_in_the_trail(ui_ctx, panel.recovery_codes)
        qtbot.waitUntil(lambda: not panel.lane.busy, timeout=5000)
        gateway.close()
