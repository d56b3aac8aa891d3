"""Normalising and checking one cell of an incident file.

Each ``parse_*`` function takes the cell text (already trimmed, never empty)
and returns the normalised value or raises FieldProblem with a bilingual reason.
NFKC is used for structured values (digits, dates, amounts, codes), never for
names: it would turn ㈱ into (株) and change compatibility kanji.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import NamedTuple

from app.core.clock import JST
from app.core.era import ERAS, from_era
from app.domain.channels import Channel
from app.domain.text import phone_digits, tidy_name


class FieldProblem(ValueError):
    """Why one cell is refused, in Japanese and English."""

    def __init__(self, ja: str, en: str) -> None:
        self.ja = ja
        self.en = en
        super().__init__(f"{ja} / {en}")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


# ---------------------------------------------------------------- text and ids


def parse_text(text: str) -> str:
    """An identifier such as report_id: trimmed only."""
    return text.strip()


def parse_free_text(text: str) -> str:
    """Address, merchant, note, card issuer: trimmed; a line break inside is stored as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def parse_member_id(text: str) -> str:
    """An id typed by people: full-width letters and digits are folded so matches work."""
    return nfkc(text)


def parse_name(text: str) -> str:
    """As written, trimmed, inner space runs (full or half width) kept as one space."""
    return tidy_name(text)


_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)} | {
    0x309D: 0x30FD,  # ゝ -> ヽ
    0x309E: 0x30FE,  # ゞ -> ヾ
}
_KANA_NAME = re.compile(r"[\u30a1-\u30fe\u31f0-\u31ff]+(?: [\u30a1-\u30fe\u31f0-\u31ff]+)*")


def parse_kana(text: str) -> str:
    """Katakana, hiragana or half-width katakana -> full-width katakana.

    NFKC is safe here (kana only) and composes ｶﾞ into ガ.
    """
    kana = tidy_name(unicodedata.normalize("NFKC", text)).translate(_HIRAGANA_TO_KATAKANA)
    if not _KANA_NAME.fullmatch(kana):
        raise FieldProblem(
            "カタカナまたはひらがなで入力してください。",
            "Write the reading in katakana or hiragana.",
        )
    return kana


# ---------------------------------------------------------------- contact


class Phone(NamedTuple):
    text: str  # as given, trimmed
    digits: str


_PHONE_CHARS = re.compile(r"[0-9+()\s\-‐‑‒–—―−ー]+")
_PHONE_DIGITS = re.compile(r"0\d{9,10}")


def parse_phone(text: str) -> Phone:
    """Digits with or without hyphens, full or half width; 10 or 11 digits from 0."""
    tidy = tidy_name(text)
    if not _PHONE_CHARS.fullmatch(unicodedata.normalize("NFKC", tidy)):
        raise FieldProblem(
            "電話番号には数字とハイフンだけを入力してください。",
            "A phone number holds only digits and hyphens.",
        )
    digits = phone_digits(tidy)
    if _PHONE_DIGITS.fullmatch(digits):
        return Phone(tidy, digits)
    if re.fullmatch(r"[1-9]\d{8,9}", digits):
        raise FieldProblem(
            "電話番号が0で始まっていません（Excelで先頭の0が消えた可能性があります）。",
            "The phone number does not start with 0 (Excel may have dropped the leading 0).",
        )
    raise FieldProblem(
        "電話番号は0から始まる10桁か11桁です。",
        "A phone number has 10 or 11 digits starting with 0.",
    )


_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def parse_email(text: str) -> str:
    """Basic shape only (one @, a dotted domain, no spaces); full width folded."""
    email = nfkc(text)
    if not _EMAIL.fullmatch(email):
        raise FieldProblem(
            "メールアドレスの形式が正しくありません。",
            "This is not a valid e-mail address.",
        )
    return email


_POSTAL = re.compile(r"〒?\s*(\d{3})[-‐‑‒–—―−ー]?(\d{4})")


def parse_postal_code(text: str) -> str:
    """7 digits with or without the hyphen, optional 〒 -> 'NNN-NNNN'."""
    found = _POSTAL.fullmatch(nfkc(text))
    if not found:
        raise FieldProblem(
            "郵便番号は7桁の数字です（例: 123-4567）。",
            "A postal code has 7 digits (e.g. 123-4567).",
        )
    return f"{found[1]}-{found[2]}"


def parse_card_last4(text: str) -> str:
    digits = nfkc(text)
    if not re.fullmatch(r"\d{4}", digits):
        raise FieldProblem(
            "カード下4桁は4桁の数字です。",
            "The card's last digits must be exactly 4 digits.",
        )
    return digits


# ---------------------------------------------------------------- channel

_CHANNEL_SPELLINGS: dict[Channel, tuple[str, ...]] = {
    Channel.CREDIT_CHARGE: ("クレジットカード", "クレジット", "クレジットカードチャージ", "credit"),
    Channel.DEBIT_CHARGE: ("デビットカード", "デビット", "デビットカードチャージ", "debit"),
    Channel.NANACO_CHARGE: ("nanaco", "ナナコ", "nanacoポイント"),
    Channel.UNAUTHORIZED_USE: ("不正利用", "残高不正利用"),
}


def _channel_key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


# Each channel's own value and its Japanese label (as our exports write it) count too.
_CHANNELS: dict[str, Channel] = {
    _channel_key(spelling): channel
    for channel, spellings in _CHANNEL_SPELLINGS.items()
    for spelling in (*spellings, channel.value, channel.label_ja)
}


def parse_channel(text: str) -> Channel:
    channel = _CHANNELS.get(_channel_key(text))
    if channel is None:
        raise FieldProblem(
            "被害区分が読めません。クレジットカード、デビットカード、nanaco、不正利用のいずれかです。",
            "Unknown channel: use credit, debit, nanaco or unauthorized_use.",
        )
    return channel


# ---------------------------------------------------------------- amount

_AMOUNT = re.compile(
    r"(?P<minus>[-−△▲]?)\s*[¥\\]?\s*(?P<minus2>[-−△▲]?)\s*(?P<number>[\d,.]+)\s*円?"
)
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")


def parse_amount(text: str, *, ceiling: int) -> int:
    """Whole yen above zero: 1000, 1,000, ¥1,000, ￥1,000, 1,000円, １，０００円, \\1,000.

    A CP932 file's yen sign is byte 0x5C, which decodes as a backslash.
    """
    found = _AMOUNT.fullmatch(nfkc(text))
    if not found:
        raise FieldProblem("金額が数字ではありません。", "The amount is not a number.")
    number = found["number"]
    if "." in number:
        raise FieldProblem(
            "金額は円単位の整数です（小数は使えません）。",
            "The amount must be whole yen (no fractions).",
        )
    if not _GROUPED.fullmatch(number):
        raise FieldProblem(
            "金額の桁区切りのカンマの位置が正しくありません。",
            "The amount's thousands separators are misplaced.",
        )
    yen = int(number.replace(",", ""))
    if found["minus"] or found["minus2"]:
        raise FieldProblem("金額がマイナスです。", "The amount is negative.")
    if yen == 0:
        raise FieldProblem("金額が0円です。", "The amount is zero.")
    if yen > ceiling:
        raise FieldProblem(
            f"金額が上限（{ceiling:,}円）を超えています。",
            f"The amount is above the ceiling of {ceiling:,} yen.",
        )
    return yen


# ---------------------------------------------------------------- dates

_DATE_FORMS = (
    # 2019-07-03, 2019/7/3
    re.compile(r"(?P<year>\d{4})(?P<sep>[-/])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})"),
    # 2019年7月3日
    re.compile(r"(?P<year>\d{4})年\s*(?P<month>\d{1,2})月\s*(?P<day>\d{1,2})日"),
    # 令和元年7月3日, 令和1年7月3日 (NFKC has already turned ㋿ into 令和)
    re.compile(
        r"(?P<era>明治|大正|昭和|平成|令和)\s*(?P<era_year>元|\d{1,2})年"
        r"\s*(?P<month>\d{1,2})月\s*(?P<day>\d{1,2})日"
    ),
    # R1.7.3, H31.4.30
    re.compile(
        r"(?P<era>[MTSHRmtshr])\s*(?P<era_year>\d{1,2})(?P<sep>[./])"
        r"(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})"
    ),
)
_CLOCK_TIME = re.compile(
    r"(?:T|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"(?P<offset>Z|[+-]\d{2}:?\d{2})?"
)
_KANJI_TIME = re.compile(
    r"\s*(?P<hour>\d{1,2})時(?:\s*(?P<minute>\d{1,2})分(?:\s*(?P<second>\d{1,2})秒)?)?"
)

_DATE_FORMS_HELP_JA = "例: 2019/07/03、2019-07-03 14:05、2019年7月3日、令和元年7月3日、R1.7.3"
_DATE_FORMS_HELP_EN = "e.g. 2019/07/03, 2019-07-03 14:05, 2019年7月3日, 令和元年7月3日, R1.7.3"


def parse_occurred_at(text: str, *, now: datetime) -> datetime:
    """Any accepted date form with an optional time -> an aware datetime.

    Japan time unless the value carries an offset. Refused: a date that does
    not exist, an era date outside its era, and a moment after ``now``.
    """
    day, rest = _split_date(nfkc(text))
    moment = datetime.combine(day, _parse_time(rest), tzinfo=_parse_offset(rest))
    if moment > now:
        raise FieldProblem(
            "発生日時が取込日時より後です。",
            "The date is later than the time of import.",
        )
    return moment


def parse_day(text: str, *, now: datetime) -> date:
    """A date without a time, in any accepted date form; not after today (Japan time)."""
    day, rest = _split_date(nfkc(text))
    if rest:
        raise FieldProblem(
            "日付のみを入力してください（時刻は不要です）。",
            "Give a date only, without a time.",
        )
    if day > now.astimezone(JST).date():
        raise FieldProblem("日付が取込日より後です。", "The date is later than the day of import.")
    return day


def _split_date(text: str) -> tuple[date, str]:
    """The date at the start of ``text`` and whatever follows it."""
    for form in _DATE_FORMS:
        found = form.match(text)
        if found:
            return _date_of(found.groupdict()), text[found.end() :]
    raise FieldProblem(
        f"日付の形式が読めません（{_DATE_FORMS_HELP_JA}）。",
        f"Unrecognised date ({_DATE_FORMS_HELP_EN}).",
    )


def _date_of(parts: dict[str, str]) -> date:
    month, day = int(parts["month"]), int(parts["day"])
    if parts.get("era") is None:
        return _existing_date(int(parts["year"]), month, day)
    era_year = 1 if parts["era_year"] == "元" else int(parts["era_year"])
    era = next(e for e in ERAS if parts["era"] in (e.name, e.letter, e.letter.lower()))
    _existing_date(era.start.year + era_year - 1, month, day)
    try:
        return from_era(era.name, era_year, month, day)
    except ValueError:
        raise FieldProblem(
            f"{era.name}の期間外の日付です（{era.name}は{era.start:%Y年%m月%d日}から）。",
            f"The date is outside the {era.name} era (which began on {era.start.isoformat()}).",
        ) from None


def _existing_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise FieldProblem("存在しない日付です。", "This date does not exist.") from None


def _parse_time(rest: str) -> time:
    if not rest:
        return time(0)
    found = _CLOCK_TIME.fullmatch(rest) or _KANJI_TIME.fullmatch(rest)
    if not found:
        raise FieldProblem(
            f"時刻の形式が読めません（例: 14:05、14時5分）。{_DATE_FORMS_HELP_JA}",
            f"Unrecognised time (e.g. 14:05 or 14時5分); {_DATE_FORMS_HELP_EN}",
        )
    hour, minute, second = (int(found[name] or 0) for name in ("hour", "minute", "second"))
    if hour > 23 or minute > 59 or second > 59:
        raise FieldProblem("存在しない時刻です。", "This time does not exist.")
    return time(hour, minute, second)


def _parse_offset(rest: str) -> timezone:
    found = _CLOCK_TIME.fullmatch(rest)
    offset = found["offset"] if found else None
    if not offset:
        return JST
    if offset == "Z":
        return UTC
    hours, minutes = int(offset[1:3]), int(offset[-2:])
    if hours > 23 or minutes > 59:
        raise FieldProblem("時差の表記が正しくありません。", "The UTC offset is invalid.")
    sign = -1 if offset[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
