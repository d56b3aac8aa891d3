"""The mouse wheel scrolls the page, not the value under the pointer.

Scrolling a long form (the settings page) used to turn every spin box and combo box
the pointer crossed: 封筒の窓:幅 went from 90 to 82. A spin box, date box or combo box
takes the wheel only once it has the keyboard focus (clicked or tabbed into); until
then the wheel goes on to the page around it."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QWidget,
)


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not isinstance(watched, QAbstractSpinBox | QComboBox):
            return False
        if event.type() == QEvent.Type.Polish:
            _set_focus_policy(watched)
            return False
        if event.type() != QEvent.Type.Wheel or watched.hasFocus():
            return False
        area = _scroll_area_around(watched)
        if area is not None:
            QCoreApplication.sendEvent(area.viewport(), event)  # the page around scrolls
        return True


def _scroll_area_around(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def _set_focus_policy(widget: QWidget) -> None:
    # A wheel should not give focus (Qt's WheelFocus would, then turn the value).
    if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


def install_wheel_guard(app: QApplication) -> WheelGuard:
    """Once per application (a second call returns the guard already there)."""
    guard = app.findChild(WheelGuard)
    if guard is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
    return guard
