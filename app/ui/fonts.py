"""The bundled Japanese fonts, registered at start-up.

These machines may have no Japanese font at all, and Qt's own fallback picks
Chinese glyph shapes for shared kanji: the bundled BIZ UDPGothic is set as the
application font explicitly.
"""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from app.core.errors import EnvironmentProblem
from app.core.paths import resources_dir

UI_FONT_FILES = ("BIZUDPGothic-Regular.ttf", "BIZUDPGothic-Bold.ttf")
UI_FAMILY = "BIZ UDPGothic"


def register_fonts() -> str:
    families: set[str] = set()
    for name in UI_FONT_FILES:
        font_id = QFontDatabase.addApplicationFont(str(resources_dir() / "fonts" / name))
        if font_id < 0:
            raise EnvironmentProblem(f"フォントを読み込めません: {name}",
                                     f"Cannot load the bundled font {name}.")
        families.update(QFontDatabase.applicationFontFamilies(font_id))
    if UI_FAMILY not in families:
        raise EnvironmentProblem("画面用フォントが見つかりません。", f"{UI_FAMILY} not found.")
    return UI_FAMILY


def apply_ui_font(app: QApplication, point_size: int = 10) -> QFont:
    font = QFont(register_fonts(), point_size)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    app.setFont(font)
    return font
