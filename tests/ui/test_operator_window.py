"""An operator's window offers no supervisor's act, and no window text names a
command-line option (pytest-qt)."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import QAbstractButton

from tests.ui.test_main_screens import window_for


def nav_shown(window) -> list[str]:
    return [window.nav.item(i).text() for i in range(window.nav.count())
            if not window.nav.item(i).isHidden()]


def test_an_operator_sees_no_supervisor_area_or_button(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx, "op1")
    assert "承認" not in nav_shown(window) and "監査ログ" not in nav_shown(window)
    window.show_page("payouts")
    shown = [b.text() for b in window.payouts.findChildren(QAbstractButton) if b.isVisible()]
    assert not any("バッチを作成" in text for text in shown)
    assert window.audit.export_button.isHidden()
    supervisor = window_for(qtbot, ui_ctx, "sv1")
    assert {"承認", "監査ログ"} <= set(nav_shown(supervisor))


def test_no_window_text_names_a_command_line_option():
    """The catalogs are every text a window shows: none names `hosho …` or an option."""
    root = Path(__file__).resolve().parents[2]
    wanted = set()
    import subprocess
    import sys

    from babel.messages.pofile import read_po
    pot = root / "build-check.pot"
    try:
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-k", "_",
                        "-k", "N_", "--no-location", "-o", str(pot), "app/ui"], check=True,
                       capture_output=True, cwd=root)
        with open(pot, "rb") as handle:
            wanted = {m.id for m in read_po(handle) if m.id}
    finally:
        pot.unlink(missing_ok=True)
    mentions = [text for text in wanted if re.search(r"`hosho|--[a-z]", str(text))]
    assert mentions == []
