"""Qt's own dialogs speak Japanese in the Japanese interface (qtbase_ja loaded)."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QLabel

from app.ui.application import make_app


def test_qt_file_dialog_is_in_japanese(ui_app, qtbot, monkeypatch):
    monkeypatch.setenv("HOSHO_LANG", "ja")
    app = make_app()
    dialog = QFileDialog()
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    qtbot.addWidget(dialog)
    look_in = dialog.findChild(QLabel, "lookInLabel").text()
    file_type = dialog.findChild(QLabel, "fileTypeLabel").text()
    assert look_in and look_in != "Look in:" and file_type != "Files of type:"
    assert any(ord(char) > 0x3000 for char in look_in + file_type)
    assert app is ui_app
