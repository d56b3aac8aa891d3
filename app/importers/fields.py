"""Normalising and checking one cell of an incident file.

Each ``parse_*`` function takes the cell text (already trimmed, never empty)
and returns the normalised value or raises FieldProblem with a bilingual reason.
NFKC is used for structured values (digits, dates, amounts, codes), never for
names: it would turn ㈱ into (株) and change compatibility kanji.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, NamedTuple

from app.core.clock import JST
from app.core.era import ERAS, from_era
from app.domain.channels import Channel
from app.domain.text import (
    control_character,
    email_key,
    foreign_digit,
    phone_digits,
    search_key,
    tidy_name,
)
from app.importers.limits import MAX_CHARS, MAX_PHONE_DIGITS, MAX_YEN

# The programme's incidents began in 2019 (7pay opened on 1 July): an earlier date is a
# typing or conversion error, and one far off in the calendar cannot even be stored.
EARLIEST_DAY = date(2019, 1, 1)


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
_PHONE_DIGITS = re.compile(r"0[0-9]{9,10}")


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
    if re.fullmatch(r"[1-9][0-9]{8,9}", digits):
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


_POSTAL = re.compile(r"〒?\s*([0-9]{3})[-‐‑‒–—―−ー]?([0-9]{4})")


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
    if not re.fullmatch(r"[0-9]{4}", digits):
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

# Possessive space runs: with plain ones, "-", thousands of spaces and a letter made the
# three optional runs in a row backtrack for minutes.
_AMOUNT = re.compile(
    r"(?P<minus>[-−△▲]?)\s*+[¥\\]?\s*+(?P<minus2>[-−△▲]?)\s*+(?P<number>[0-9,.]+)\s*+円?"
)
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+")


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
    if found["minus"] or found["minus2"]:
        raise FieldProblem("金額がマイナスです。", "The amount is negative.")
    ceiling = min(ceiling, MAX_YEN)
    digits = number.replace(",", "").lstrip("0")
    # Counted before int(): Python refuses to convert more than 4,300 digits.
    yen = int(digits or "0") if len(digits) <= len(str(ceiling)) else ceiling + 1
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
    re.compile(r"(?P<year>[0-9]{4})(?P<sep>[-/])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"),
    # 2019年7月3日
    re.compile(r"(?P<year>[0-9]{4})年\s*(?P<month>[0-9]{1,2})月\s*(?P<day>[0-9]{1,2})日"),
    # 令和元年7月3日, 令和1年7月3日 (NFKC has already turned ㋿ into 令和)
    re.compile(
        r"(?P<era>明治|大正|昭和|平成|令和)\s*(?P<era_year>元|[0-9]{1,2})年"
        r"\s*(?P<month>[0-9]{1,2})月\s*(?P<day>[0-9]{1,2})日"
    ),
    # R1.7.3, H31.4.30
    re.compile(
        r"(?P<era>[MTSHRmtshr])\s*(?P<era_year>[0-9]{1,2})(?P<sep>[./])"
        r"(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"
    ),
)
_CLOCK_TIME = re.compile(
    r"(?:T|\s+)(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?"
    r"(?P<offset>Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_KANJI_TIME = re.compile(
    r"\s*(?P<hour>[0-9]{1,2})時(?:\s*(?P<minute>[0-9]{1,2})分(?:\s*(?P<second>[0-9]{1,2})秒)?)?"
)

_DATE_FORMS_HELP_JA = "例: 2019/07/03、2019-07-03 14:05、2019年7月3日、令和元年7月3日、R1.7.3"
_DATE_FORMS_HELP_EN = "e.g. 2019/07/03, 2019-07-03 14:05, 2019年7月3日, 令和元年7月3日, R1.7.3"


def parse_occurred_at(text: str, *, now: datetime) -> datetime:
    """Any accepted date form with an optional time -> an aware datetime.

    Japan time unless the value carries an offset. Refused: a date that does
    not exist, an era date outside its era, and a moment before 2019 (in Japan
    time) or after ``now``.
    """
    day, rest = _split_date(nfkc(text))
    # The day as written first: far from the range, an offset would overflow the calendar.
    _check_range(day, now, slack=timedelta(days=1))
    moment = datetime.combine(day, _parse_time(rest), tzinfo=_parse_offset(rest))
    if moment.astimezone(JST).date() < EARLIEST_DAY:
        raise _before_earliest()
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
    _check_range(day, now)
    return day


def _check_range(day: date, now: datetime, slack: timedelta = timedelta(0)) -> None:
    """Refuse a day before 2019 or after today (Japan time), give or take ``slack``."""
    if day < EARLIEST_DAY - slack:
        raise _before_earliest()
    if day > now.astimezone(JST).date() + slack:
        raise FieldProblem("日付が取込日より後です。", "The date is later than the day of import.")


def _before_earliest() -> FieldProblem:
    return FieldProblem(
        f"{EARLIEST_DAY.year}年{EARLIEST_DAY.month}月{EARLIEST_DAY.day}日より前の日付は"
        "受け付けられません。",
        f"Dates before {EARLIEST_DAY.isoformat()} are not accepted.",
    )


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


# ---------------------------------------------------------------- every field

# Fields whose digits are read as numbers: only 0-9 and ０-９ count as digits there.
_DIGIT_FIELDS = frozenset(
    {"phone", "postal_code", "amount", "card_last4", "occurred_at", "contact_received_at"}
)
# Stored folded beside the value, in a column of the same length.
_KEYS: dict[str, Callable[[str], str]] = {
    "name": search_key,
    "name_kana": search_key,
    "email": email_key,
}


def field_parsers(*, now: datetime, ceiling: int) -> dict[str, Callable[[str], Any]]:
    """Each field's parser as the import contract reads it (phone intake too), with the
    checks every field shares: no control character, digits only as Excel writes them,
    and a value that fits its column (MAX_CHARS) on SQLite and PostgreSQL alike."""
    plain: dict[str, Callable[[str], Any]] = {
        "report_id": parse_text,
        "member_id": parse_member_id,
        "name": parse_name,
        "name_kana": parse_kana,
        "phone": parse_phone,
        "email": parse_email,
        "postal_code": parse_postal_code,
        "address": parse_free_text,
        "channel": parse_channel,
        "occurred_at": lambda text: parse_occurred_at(text, now=now),
        "amount": lambda text: parse_amount(text, ceiling=ceiling),
        "card_issuer": parse_free_text,
        "card_last4": parse_card_last4,
        "contact_received_at": lambda text: parse_day(text, now=now),
        "merchant": parse_free_text,
        "note": parse_free_text,
    }
    return {name: _checked(name, parser) for name, parser in plain.items()}


def _checked(name: str, parser: Callable[[str], Any]) -> Callable[[str], Any]:
    digits, limited = name in _DIGIT_FIELDS, name in MAX_CHARS

    def parse_checked(text: str) -> Any:
        refuse_controls(text)
        if digits:
            refuse_foreign_digits(text)
        value = parser(text)
        if limited:
            check_length(name, value.text if isinstance(value, Phone) else value)
        return value

    return parse_checked


def refuse_controls(text: str) -> None:
    char = control_character(text)
    if char is not None:
        raise FieldProblem(
            f"制御文字（U+{ord(char):04X}）が含まれています。",
            f"The value holds a control character (U+{ord(char):04X}).",
        )


def refuse_foreign_digits(text: str) -> None:
    char = foreign_digit(text)
    if char is not None:
        raise FieldProblem(
            f"数字は半角か全角の0〜9で書いてください（「{char}」U+{ord(char):04X}は使えません）。",
            f"Write digits as 0-9, half or full width ({char!r}, U+{ord(char):04X}, "
            "is not one).",
        )


def check_length(name: str, value: str) -> None:
    """Refuse a value longer than its column, or whose folded key would be."""
    limit = MAX_CHARS[name]
    if len(value) > limit:
        raise FieldProblem(
            f"{limit:,}文字以内にしてください（{len(value):,}文字あります）。",
            f"At most {limit:,} characters ({len(value):,} given).",
        )
    key = _KEYS.get(name)
    folded = len(key(value)) if key else 0
    if folded > limit:
        raise FieldProblem(
            f"{limit:,}文字以内にしてください（㈱などの文字を展開すると{folded:,}文字になります）。",
            f"At most {limit:,} characters ({folded:,} once characters such as ㈱ are "
            "spelt out).",
        )
    if name == "phone" and len(phone_digits(value)) > MAX_PHONE_DIGITS:
        raise FieldProblem(
            f"電話番号の数字は{MAX_PHONE_DIGITS}桁以内です。",
            f"A phone number has at most {MAX_PHONE_DIGITS} digits.",
        )
