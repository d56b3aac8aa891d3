"""Translations (Babel message catalogs) and Japanese-aware formatting.

The interface text in code is English (msgids); the Japanese catalog under
resources/i18n is the default. Catalogs are compiled in memory at start-up,
so an edited .po file takes effect without a build step.
"""

from __future__ import annotations

import gettext
from datetime import date, datetime
from io import BytesIO

from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from app.core.clock import to_jst
from app.core.paths import resources_dir

DOMAIN = "hosho"
LOCALES = ("ja", "en")
_state: dict[str, object] = {"locale": "ja", "translations": gettext.NullTranslations()}


def catalog_path(locale: str):
    return resources_dir() / "i18n" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalog_paths(locale: str) -> list:
    """The main catalog first, then the per-area ones (hosho-<area>.po).

    Areas of the program keep their own catalog so that work on one area never
    rewrites another's translations.
    """
    main = catalog_path(locale)
    parts = sorted(main.parent.glob(f"{DOMAIN}-*.po"))
    return [path for path in [main, *parts] if path.exists()]


def _compile(path) -> gettext.GNUTranslations:
    with open(path, "rb") as handle:
        catalog = read_po(handle, locale=path.parent.parent.name)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # untranslated entries are left out, so fallbacks apply
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _load(locale: str) -> gettext.NullTranslations:
    paths = catalog_paths(locale) if locale != "en" else []
    if not paths:
        return gettext.NullTranslations()
    first, *rest = (_compile(path) for path in paths)
    for extra in rest:
        first.add_fallback(extra)
    return first


def set_locale(locale: str) -> None:
    if locale not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r}")
    _state["locale"] = locale
    _state["translations"] = _load(locale)


def current_locale() -> str:
    return str(_state["locale"])


def _(message: str) -> str:
    return _state["translations"].gettext(message)  # type: ignore[union-attr]


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for ``count`` ("1 case shown", "2 cases shown"); Japanese has one."""
    return _state["translations"].ngettext(singular, plural, count)  # type: ignore[union-attr]


def N_(message: str) -> str:
    """Mark for extraction only; translated later with _()."""
    return message


def format_yen(amount: int | None) -> str:
    """38,615,473円 in Japanese, ¥38,615,473 in English; integers only."""
    if amount is None:
        return ""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("yen amounts are ints")
    digits = format_decimal(amount, locale=current_locale())
    return f"{digits}円" if current_locale() == "ja" else f"¥{digits}"


def format_day(day: date | None) -> str:
    if day is None:
        return ""
    if current_locale() == "ja":
        return babel_format_date(day, "yyyy/MM/dd (EEE)", locale="ja")
    return babel_format_date(day, "d MMM yyyy", locale="en")


def format_moment(moment: datetime | None) -> str:
    """Times are stored in UTC and always shown in Japan time."""
    if moment is None:
        return ""
    local = to_jst(moment)
    return f"{babel_format_date(local.date(), 'yyyy/MM/dd', locale='ja')} {local:%H:%M}"


def one_language(ja: str, en: str, both: str = "") -> str:
    """A bilingual message in the interface's language (``both`` when that one is empty)."""
    return (ja if current_locale() == "ja" else en) or both


def error_text(exc: Exception) -> str:
    """A service error in the interface's language. Anything else is a bug: logged (once)
    with a reference, and shown by its reference and class only, since its text may hold
    personal data (a database error echoes the rows it refused)."""
    ja, en = getattr(exc, "ja", None), getattr(exc, "en", None)
    if ja is None:
        return bug_text(exc)
    return one_language(ja, en)


def bug_text(exc: BaseException) -> str:
    from app.core.logs import report_bug

    reference = report_bug(exc)
    kind = type(exc).__name__
    return one_language(
        f"予期しないエラーが起きました（{kind}、参照番号 {reference}）。"
        "詳細はログファイルに記録しました。",
        f"An unexpected error occurred ({kind}, reference {reference}). "
        "The details are in the log file.")
