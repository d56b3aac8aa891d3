"""The wheel scrolls the settings page and leaves the values alone until a box has
the focus (pytest-qt, real wheel events)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea

from app.ui.wheel_guard import install_wheel_guard
from tests.ui.test_settings_page import open_page


def wheel(widget, steps: int = -3) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_scrolling_the_settings_page_changes_no_value(ui_app, qtbot, ui_ctx):
    install_wheel_guard(ui_app)
    page = open_page(qtbot, ui_ctx, "admin")
    page.resize(900, 500)
    width = page.editors["letter_window_width_mm"]
    style = page.editors["letter_date_style"]
    assert width.value() == 90
    before_style = style.currentIndex()
    scroll = page.findChild(QScrollArea).verticalScrollBar()
    qtbot.waitUntil(lambda: scroll.maximum() > 0, timeout=2000)
    start = scroll.value()
    wheel(width)
    wheel(style)
    assert width.value() == 90 and style.currentIndex() == before_style
    assert scroll.value() > start  # the page scrolled instead
    width.setFocus()
    qtbot.waitUntil(width.hasFocus, timeout=1000)
    wheel(width, 1)
    assert width.value() == 91  # a focused box takes the wheel


def test_the_public_figures_ignore_the_wheel(ui_app, qtbot, ui_ctx):
    install_wheel_guard(ui_app)
    page = open_page(qtbot, ui_ctx, "admin")
    for key in ("programme_victims", "programme_total_yen"):
        editor = page.editors[key]
        before = editor.value()
        wheel(editor)
        assert editor.value() == before
        assert editor.focusPolicy() != Qt.FocusPolicy.WheelFocus
