"""Qt's own words (file dialogs, message boxes) in Japanese.

Qt ships qtbase_ja, but its Japanese catalog lags behind Qt's source: the file dialog's
"&Look in:" and "Files of &type:" gained their mnemonic after it was translated, so
they showed in English. A second translator puts the older translation back with the
mnemonic, the way the catalog writes others: アドレス(&L):."""

from __future__ import annotations

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication


class MnemonicFallback(QTranslator):
    def __init__(self, base: QTranslator, parent=None) -> None:
        super().__init__(parent)
        self.base = base

    def isEmpty(self) -> bool:
        return False

    def translate(self, context, source, disambiguation=None, n=-1):
        if not source or "&" not in source or self.base.translate(context, source,
                                                                   disambiguation, n):
            return None
        plain = source.replace("&", "", 1)
        text = self.base.translate(context, plain, disambiguation, n)
        if not text:
            return None
        key = source[source.index("&") + 1].upper()
        colon = ":" if text.endswith(":") else ""
        return f"{text.removesuffix(':')}(&{key}){colon}"


def install_qt_translations(app: QApplication) -> None:
    path = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    base = QTranslator(app)
    if not base.load(QLocale(QLocale.Language.Japanese), "qtbase", "_", path):
        return
    app.installTranslator(base)
    app.installTranslator(MnemonicFallback(base, app))
