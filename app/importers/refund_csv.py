"""Reading the balance-refund files: closing balances and applications
(../shared/spec/balance-refund.md, "The files").

The same engine as the incident lists: the encoding sniffed and decoded strictly
(app.importers.textfile), headers folded and matched in any order and either
language (app.importers.columns.header_key), each cell checked by the incident
parsers (app.importers.fields), every row a record or the reasons it is refused
(app.importers.incident_csv.RowError). Pure: no database. Iterating a file streams
its rows, so memory stays flat at a million members.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from itertools import islice
from json.encoder import c_make_encoder, encode_basestring
from pathlib import Path
from typing import Any, NamedTuple

from app.core.clock import JST
from app.core.errors import ValidationError
from app.domain.channels import Channel, PayoutKind
from app.domain.payout import PayoutDetails, account_number_digits, normalise
from app.domain.refunds import (
    DEFAULT_APPLICATIONS_FROM,
    Method,
    Route,
    deadline_end,
    parse_method,
    parse_route,
)
from app.importers import fields as parse
from app.importers.columns import IGNORE, MAX_COLUMNS, MappingError, header_key
from app.importers.incident_csv import Preview, RowError, detect_file_encoding
from app.importers.limits import MAX_CHARS
from app.importers.textfile import (
    CountingReader,
    FileRefused,
    delimiter_for,
    file_sha256,
    open_text,
    refuse,
)

CONTENT_HASH_VERSION = 1

# Applications were taken from 1 October 2019 (a setting: refund_applications_from); an
# earlier one is a typing or conversion error. A birth date before 1900 is one too.
APPLICATIONS_FROM = DEFAULT_APPLICATIONS_FROM
EARLIEST_BIRTH = date(1900, 1, 1)

# How long each stored value may be: the columns of refund_member and refund_application
# (tests/importers/test_refund_csv.py holds them equal to app.storage.models); a value
# of no column of its own (an amount, a date, a word) is bounded by OTHER_CHARS before
# it is parsed. Folded keys (kana_key, email_key) are held to their field's length too.
FIELD_CHARS: dict[str, int] = {
    "member_id": MAX_CHARS["member_id"], "application_id": MAX_CHARS["report_id"],
    "name": MAX_CHARS["name"], "name_kana": MAX_CHARS["name_kana"],
    "phone": MAX_CHARS["phone"], "email": MAX_CHARS["email"],
    "postal_code": MAX_CHARS["postal_code"], "address": MAX_CHARS["address"],
    "account_holder_kana": 100,
}
OTHER_CHARS = 100
# Fields read as numbers: only 0-9 and ０-９ count as digits there.
_DIGIT_FIELDS = frozenset({"balance", "fraud_charge_balance", "phone", "postal_code",
                           "birth_date", "closed_on", "applied_at", "bank_code",
                           "branch_code", "account_number"})


@dataclass(frozen=True)
class FileKind:
    """One of the two files: its fields, their headers, which are required."""

    name: str
    headers: dict[str, tuple[str, ...]]
    labels_ja: dict[str, str]
    required: tuple[str, ...]

    @cached_property
    def by_header(self) -> dict[str, str]:
        return {header_key(alias): name for name, aliases in self.headers.items()
                for alias in (name, *aliases)}


_CONTACT_HEADERS = {
    "name": ("氏名", "お名前", "名前", "full name"),
    "name_kana": ("フリガナ", "ふりがな", "氏名カナ", "カナ", "kana"),
    "phone": ("電話番号", "連絡先電話番号", "TEL"),
    "email": ("メールアドレス", "メール", "e-mail"),
    "postal_code": ("郵便番号", "〒", "zip"),
    "address": ("住所",),
    "birth_date": ("生年月日", "birth date"),
}
_CONTACT_LABELS = {"name": "氏名", "name_kana": "フリガナ", "phone": "電話番号",
                   "email": "メールアドレス", "postal_code": "郵便番号", "address": "住所",
                   "birth_date": "生年月日"}

BALANCES = FileKind(
    "balances",
    {"member_id": ("7iD", "会員ID", "7id"), "balance": ("残高", "終了時残高"),
     "fraud_charge_balance": ("不正チャージ由来残高", "fraud charge balance"),
     **_CONTACT_HEADERS, "closed_on": ("退会日", "closed on")},
    {"member_id": "会員ID", "balance": "残高", "fraud_charge_balance": "不正チャージ由来残高",
     **_CONTACT_LABELS, "closed_on": "退会日"},
    ("member_id", "balance"),
)
APPLICATIONS = FileKind(
    "applications",
    {"application_id": ("申出番号",), "member_id": ("7iD", "会員ID"),
     **{k: v for k, v in _CONTACT_HEADERS.items() if k not in ("postal_code", "address")},
     "route": ("申出経路",), "applied_at": ("申出日時", "申出日", "applied at"),
     "method": ("払戻方法",), "bank_code": ("金融機関コード",), "branch_code": ("支店コード",),
     "account_type": ("預金種目",), "account_number": ("口座番号",),
     "account_holder_kana": ("口座名義", "口座名義カナ")},
    {"application_id": "申出番号", "member_id": "会員ID", **_CONTACT_LABELS,
     "route": "申出経路", "applied_at": "申出日時", "method": "払戻方法",
     "bank_code": "金融機関コード", "branch_code": "支店コード", "account_type": "預金種目",
     "account_number": "口座番号", "account_holder_kana": "口座名義"},
    ("application_id", "name", "route", "applied_at", "method"),
)


class BalanceRecord(NamedTuple):
    """A closing balance as checked. Records (and rows) are named tuples, not frozen
    dataclasses: as immutable and read by the same names, but made in one step (a
    frozen dataclass sets each field on its own: 540,000 records of a dozen fields)."""

    member_id: str
    balance: int
    fraud_charge_balance: int | None
    name: str | None
    name_kana: str | None
    phone: str | None
    email: str | None
    postal_code: str | None
    address: str | None
    birth_date: date | None
    closed_on: date | None

    def content_hash(self) -> str:
        return _hash(self)


class ApplicationRecord(NamedTuple):
    application_id: str
    member_id: str | None
    name: str
    name_kana: str | None
    phone: str | None
    email: str | None
    birth_date: date | None
    route: Route
    applied_at: datetime
    method: Method
    bank_code: str | None
    branch_code: str | None
    account_type: str | None
    account_number: str | None
    account_holder_kana: str | None

    def content_hash(self) -> str:
        return _hash(self)


def _hash(record: BalanceRecord | ApplicationRecord) -> str:
    """SHA-256 of the record's fields in order, as JSON (dates in ISO form): the import's
    hot path, so the list is the record's own values and the JSON encoder C's, built once
    (json.dumps builds one a call): the same text, byte for byte."""
    values = [CONTENT_HASH_VERSION, *record]
    for at in _DATED[type(record)]:
        value = values[at]
        if value is not None:
            values[at] = value.isoformat()
    return hashlib.sha256("".join(_HASH_JSON(values, 0)).encode("utf-8")).hexdigest()


# Per kind: where in the hashed list the dates and times are (ISO form).
_DATED_FIELDS = ("birth_date", "closed_on", "applied_at")
_DATED = {kind: tuple(at for at, name in enumerate(kind._fields, 1) if name in _DATED_FIELDS)
          for kind in (BalanceRecord, ApplicationRecord)}


def _reference_encoder() -> Callable[[Any, int], Any]:
    """What json.dumps(values, ensure_ascii=False, separators=(",", ":")) runs: the C
    encoder when there is one (CPython), else the pure-Python one."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    if c_make_encoder is None:  # pragma: no cover - CPython has it
        return lambda values, _level: (encoder.encode(values),)
    return c_make_encoder(None, encoder.default, encode_basestring, None,
                          encoder.key_separator, encoder.item_separator, False, False, True)


_HASH_JSON = _reference_encoder()


class RefundRow(NamedTuple):
    """One non-blank data row: a record, or the errors that reject it."""

    line: int
    record: BalanceRecord | ApplicationRecord | None
    errors: list[RowError]
    cells: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.record is not None


# A named tuple made in C from its values in field order (its __new__ and _make are
# Python functions around this; the hot path makes three a row). The kinds' values come
# in their records' field order (tests/importers/test_refund_csv_fast_paths.py).
_new = tuple.__new__


# ---------------------------------------------------------------- cells


_ZERO = re.compile(r"[¥\\]?\s*0+\s*円?")


def parse_yen(text: str) -> int:
    """Whole yen as in the incident lists, 0 allowed."""
    if _ZERO.fullmatch(parse.nfkc(text)):
        return 0
    return parse.parse_amount(text, ceiling=10**12)


_ACCOUNT_TYPES = {"普通": "ordinary", "1": "ordinary", "ordinary": "ordinary",
                  "当座": "current", "2": "current", "current": "current",
                  "貯蓄": "savings", "4": "savings", "savings": "savings"}


def _account_type(text: str) -> str:
    found = _ACCOUNT_TYPES.get(unicodedata.normalize("NFKC", text).strip().casefold())
    if found is None:
        raise parse.FieldProblem("預金種目は普通・当座・貯蓄のいずれかです。",
                                 "The account type is ordinary, current or savings.")
    return found


def _any_day(text: str, now: datetime) -> date:
    """A date in any accepted form, not after today. Unlike an incident's, a birth date
    lies before 2019, so the incident parsers' 2019 floor does not apply."""
    day, rest = parse._split_date(parse.nfkc(text))  # the same date forms as the incidents
    if rest:
        raise parse.FieldProblem("日付のみを入力してください（時刻は不要です）。",
                                 "Give a date only, without a time.")
    if day > now.astimezone(JST).date():
        raise parse.FieldProblem("日付が取込日より後です。",
                                 "The date is later than the day of import.")
    if day < EARLIEST_BIRTH:
        raise parse.FieldProblem(f"{EARLIEST_BIRTH.year}年より前の日付は受け付けられません。",
                                 f"Dates before {EARLIEST_BIRTH.isoformat()} are not accepted.")
    return day


def _applied_at(text: str, now: datetime, applications_from: date) -> datetime:
    """When the applicant applied: any accepted form, Japan time; not before the day
    applications opened (1 October 2019), not after the import."""
    moment = parse.parse_occurred_at(text, now=now)
    if moment < deadline_end(applications_from - timedelta(days=1)):
        raise parse.FieldProblem(
            f"申出の受付開始（{applications_from.year}年{applications_from.month}月"
            f"{applications_from.day}日）より前の申出日時です。",
            f"Applied before applications opened ({applications_from.isoformat()}).")
    return moment


def _worded(fn: Callable[[str], Any], ja: str, en: str) -> Callable[[str], Any]:
    def parse_word(text: str) -> Any:
        try:
            return fn(text)
        except ValueError:
            raise parse.FieldProblem(ja, en) from None
    return parse_word


def _parsers(now: datetime, applications_from: date) -> dict[str, Callable[[str], Any]]:
    plain: dict[str, Callable[[str], Any]] = {
        "member_id": parse.parse_member_id, "application_id": parse.parse_text,
        "balance": parse_yen, "fraud_charge_balance": parse_yen,
        "name": parse.parse_name, "name_kana": parse.parse_kana,
        "phone": parse.parse_phone, "email": parse.parse_email,
        "postal_code": parse.parse_postal_code, "address": parse.parse_free_text,
        "birth_date": lambda text: _any_day(text, now),
        "closed_on": lambda text: parse.parse_day(text, now=now),
        "applied_at": lambda text: _applied_at(text, now, applications_from),
        "route": _worded(parse_route, "申出経路はアプリ・Web・電話のいずれかです。",
                         "The route is app, web or phone."),
        "method": _worded(parse_method, "払戻方法は口座振込か払出証書です。",
                          "The method is bank_transfer or postal_order."),
        "bank_code": parse.parse_text, "branch_code": parse.parse_text,
        "account_type": _account_type, "account_number": parse.parse_text,
        "account_holder_kana": parse.parse_text,
    }
    return {name: _checked(name, fn) for name, fn in plain.items()}


def _checked(name: str, parser: Callable[[str], Any]) -> Callable[[str], Any]:
    """The checks every field shares, as for the incident files: no control character,
    digits only as Excel writes them, and a value (and its folded key) within its
    column on SQLite and PostgreSQL alike."""
    digits = name in _DIGIT_FIELDS
    limit = FIELD_CHARS.get(name)
    keyed = name in ("name", "name_kana", "email", "phone")

    def parse_checked(text: str) -> Any:
        parse.refuse_controls(text)
        if digits:
            parse.refuse_foreign_digits(text)
        value = parser(text)
        if keyed:
            parse.check_length(name, value.text if isinstance(value, parse.Phone) else value)
        elif limit is not None and len(value) > limit:
            raise _too_long(limit, len(value))
        return value

    return parse_checked


# A phone number as nearly every row writes it: ASCII digits and single hyphens between
# them, 10 or 11 digits from 0. Such a text has no control character, no foreign digit
# and no space; NFKC leaves it as it is; its digits are its characters less the hyphens.


def _plain_phone(full: Callable[[str], Any]) -> Callable[[str], Any]:
    """``full`` (the checked phone parser), answered at once for a plain number of 10 or
    11 digits from 0: the same Phone the full parser gives it. String tests rather than
    two regular expressions: [0-9]+(?:-[0-9]+)* is "ASCII digits less the hyphens, no
    hyphen first, last or twice in a row"."""
    limit, phone = FIELD_CHARS["phone"], parse.Phone

    def parse_phone(text: str) -> Any:
        digits = text.replace("-", "")
        if (10 <= len(digits) <= 11 and digits[0] == "0" and digits.isascii()
                and digits.isdigit() and text[0] != "-" and text[-1] != "-"
                and "--" not in text and len(text) <= limit):
            return _new(phone, (text, digits))
        return full(text)
    return parse_phone


def _plain_ascii(full: Callable[[str], Any], limit: int | None) -> Callable[[str], Any]:
    """``full`` (an identifier's checked parser: NFKC or trimming only), answered at once
    for printable ASCII within the limit, which no step changes or refuses."""
    def parse_identifier(text: str) -> Any:
        if text.isascii() and text.isprintable() and (limit is None or len(text) <= limit):
            return text
        return full(text)
    return parse_identifier


def _too_long(limit: int, given: int) -> parse.FieldProblem:
    return parse.FieldProblem(f"{limit:,}文字以内にしてください（{given:,}文字あります）。",
                              f"At most {limit:,} characters ({given:,} given).")


# ---------------------------------------------------------------- rows

_UNIQUE = frozenset({"member_id", "application_id", "phone", "email", "account_number"})


class _Checker:
    def __init__(self, kind: FileKind, header: list[str], by_index: dict[int, str],
                 now: datetime, applications_from: date = APPLICATIONS_FROM) -> None:
        self.kind, self.header = kind, header
        self.by_index = sorted(by_index.items())
        self.column_of = {name: header[index] for index, name in self.by_index}
        # Names, kana, amounts, dates and words repeat from row to row: their answers are
        # remembered (a refused value raises each time: lru_cache keeps no exceptions).
        self.parsers = {name: fn if name in _UNIQUE else lru_cache(maxsize=8192)(fn)
                        for name, fn in _parsers(now, applications_from).items()}
        # The values unique to a row, in the forms nearly every row has: answered at once
        # (the full parser still decides every other form, and every refusal).
        for name in ("member_id", "application_id", "account_number"):
            self.parsers[name] = _plain_ascii(self.parsers[name], FIELD_CHARS.get(name))
        self.parsers["phone"] = _plain_phone(self.parsers["phone"])
        # Each column's field, whether it is required, its limit and parser: looked up
        # once, not once a cell (a million rows of a dozen cells).
        self.plan = [(index, name, name in kind.required, FIELD_CHARS.get(name, OTHER_CHARS),
                      self.parsers[name]) for index, name in self.by_index]
        self.width, self.names = len(header), tuple(kind.headers)

    def check(self, line: int, cells: list[str]) -> RefundRow:
        errors: list[RowError] = []
        width, count = self.width, len(cells)
        if count > width and any(cell.strip() for cell in cells[width:]):
            errors.append(RowError("", "", f"見出しより列が{count - width}個多く"
                                   "なっています。", "The row has more cells than the header."))
        values: dict[str, Any] = dict.fromkeys(self.names)
        for index, name, required, limit, parser in self.plan:
            text = cells[index].strip() if index < count else ""
            if not text:
                if required:
                    errors.append(self._error(name, "必須項目が空です。",
                                              "This value is required."))
            elif len(text) > limit:  # before parsing: a huge cell costs no NFKC
                problem = _too_long(limit, len(text))
                errors.append(self._error(name, problem.ja, problem.en, text[:limit] + "…"))
            else:
                try:
                    values[name] = parser(text)
                except parse.FieldProblem as problem:
                    errors.append(self._error(name, problem.ja, problem.en, text))
        record = None
        if not errors:
            record = (self._balance(values, errors) if self.kind is BALANCES
                      else self._application(values, errors))
        elif self.kind is APPLICATIONS:
            # the fields given (not blank), refused or not: told only for a refused row
            given = {name for index, name, *_rest in self.plan
                     if index < count and cells[index].strip()}
            self._row_rules(values, given, errors)  # all the reasons at once
        return _new(RefundRow, (line, None if errors else record, errors, tuple(cells)))

    def _row_rules(self, v: dict[str, Any], given: set[str], errors: list[RowError]) -> None:
        """An application's rules across fields, for a row already refused by a field:
        the contact, and a bank transfer's empty account fields."""
        if not {"phone", "email"} & given:
            errors.append(self._contact_error())
        if v["method"] is Method.BANK_TRANSFER:
            for name in ("bank_code", "branch_code", "account_type", "account_number",
                         "account_holder_kana"):
                if name not in given:
                    errors.append(self._error(name, "口座振込には必須です。",
                                              "Required for a bank transfer."))

    def _contact_error(self) -> RowError:
        return RowError(" / ".join(self.column_of.get(n, "") for n in
                                   ("phone", "email")).strip(" /"), "phone/email",
                        "電話番号かメールアドレスのどちらかが必要です。",
                        "A phone number or an e-mail address is required.")

    def _error(self, name: str, ja: str, en: str, value: str = "") -> RowError:
        return RowError(self.column_of.get(name, ""), name, ja, en, value)

    def _balance(self, v: dict[str, Any], errors: list[RowError]) -> BalanceRecord | None:
        fraud = v["fraud_charge_balance"]
        if fraud is not None and fraud > v["balance"]:
            errors.append(self._error("fraud_charge_balance",
                                      "不正チャージ由来残高が残高を超えています。",
                                      "The fraud-charge part is larger than the balance."))
            return None
        phone = v["phone"]
        v["phone"] = phone.text if phone else None
        return _new(BalanceRecord, v.values())  # the fields in the kind's order

    def _application(self, v: dict[str, Any], errors: list[RowError]
                     ) -> ApplicationRecord | None:
        if v["phone"] is None and v["email"] is None:
            errors.append(self._contact_error())
            return None
        bank = None
        if v["method"] is Method.BANK_TRANSFER:
            bank = self._bank(v, errors)
            if bank is None:
                return None
        phone = v["phone"]
        v["phone"] = phone.text if phone else None
        if bank:
            v.update(bank)
        return _new(ApplicationRecord, v.values())  # the fields in the kind's order

    def _bank(self, v: dict[str, Any], errors: list[RowError]) -> dict[str, Any] | None:
        """The account's fields as checked for a transfer, or None (errors told): what
        normalise makes of PayoutDetails, missing fields in PayoutDetails.missing_fields'
        order."""
        missing = [name for name in _BANK_FIELDS if not v[name]]
        if missing:
            for name in missing:
                errors.append(self._error(name, "口座振込には必須です。",
                                          "Required for a bank transfer."))
            return None
        try:
            # The bank, branch, type and holder repeat from row to row: checked once each
            # (the account number, which does not, on its own).
            number = account_number_digits(v["account_number"])
            bank = _bank_checked(v["bank_code"], v["branch_code"], v["account_type"],
                                 v["account_holder_kana"])
            return {"bank_code": bank.bank_code, "branch_code": bank.branch_code,
                    "account_type": bank.account_type, "account_number": number,
                    "account_holder_kana": bank.holder_kana}
        except ValidationError as problem:
            name = {"holder_kana": "account_holder_kana"}.get(problem.field, problem.field)
            errors.append(self._error(name, problem.ja, problem.en))
            return None


# A transfer's fields, as PayoutDetails.missing_fields names them (holder_kana is the
# file's account_holder_kana).
_BANK_FIELDS = ("bank_code", "branch_code", "account_type", "account_number",
                "account_holder_kana")


@lru_cache(maxsize=4096)
def _bank_checked(bank_code: str, branch_code: str, account_type: str, holder_kana: str
                  ) -> PayoutDetails:
    return normalise(PayoutDetails(PayoutKind.BANK_ACCOUNT, bank_code=bank_code,
                                   branch_code=branch_code, account_type=account_type,
                                   holder_kana=holder_kana), Channel.DEBIT_CHARGE)


# ---------------------------------------------------------------- the file


class RefundFile:
    """A checked file of one kind; iterate it for RefundRows (each pass re-reads it).

    Progress: ``bytes_read`` (of the current or last pass) against ``size``. To cancel,
    stop iterating."""

    def __init__(self, path: Path, kind: FileKind, *, encoding: str, delimiter: str,
                 header: list[str], by_index: dict[int, str], unknown: list[str],
                 now: datetime, applications_from: date = APPLICATIONS_FROM) -> None:
        self.path, self.kind, self.encoding, self.delimiter = path, kind, encoding, delimiter
        self.header, self.unknown_columns, self._by_index = header, unknown, by_index
        self.columns = {header[i]: name for i, name in sorted(by_index.items())}
        self.size = os.path.getsize(path)
        self._now, self._from = now, applications_from
        self._counter: CountingReader | None = None

    @property
    def bytes_read(self) -> int:
        return self._counter.bytes_read if self._counter else 0

    @cached_property
    def sha256(self) -> str:
        return file_sha256(self.path)

    def __iter__(self) -> Iterator[RefundRow]:
        checker = _Checker(self.kind, self.header, self._by_index, self._now, self._from)
        rows = _records(self.path, self.encoding, self.delimiter, self)
        next(rows, None)
        for line, cells in rows:
            yield checker.check(line, cells)


def _records(path: Path, encoding: str, delimiter: str, owner: RefundFile | None = None
             ) -> Iterator[tuple[int, list[str]]]:
    text, counter = open_text(path, encoding)
    if owner is not None:
        owner._counter = counter
    with text:
        reader = csv.reader(text, delimiter=delimiter)
        last = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise refuse(f"{last + 1}行目付近に読めない文字があります。",
                             f"Near line {last + 1} the file cannot be decoded.") from None
            except csv.Error as exc:
                raise refuse(f'{last + 1}行目から先をCSVとして読めません（{exc}）。',
                             f"From line {last + 1} on the file cannot be read as CSV "
                             f"({exc}).") from None
            first, last = last + 1, reader.line_num
            if "".join(cells).strip():  # not blank (one C pass, not a generator)
                yield first, cells


@dataclass
class RefundColumns:
    """Which column holds which field of a file of ``kind``, before deciding whether it
    is usable (the wizard shows it; the import refuses an unusable one)."""

    kind: FileKind
    header: list[str]
    by_index: dict[int, str]
    unknown: list[str]
    clashes: dict[str, list[str]]

    @property
    def columns(self) -> dict[str, str]:
        return {self.header[i]: name for i, name in sorted(self.by_index.items())}

    @property
    def missing(self) -> list[str]:
        present = set(self.by_index.values())
        return [name for name in self.kind.required if name not in present]

    @property
    def missing_contact(self) -> bool:
        """An applications file with neither a phone nor an e-mail column: no row of it
        could be accepted."""
        return self.kind is APPLICATIONS and not {"phone", "email"} & set(
            self.by_index.values())

    def require_usable(self) -> None:
        kind = self.kind
        if self.missing:
            raise FileRefused(
                "必須の列がありません: " + "、".join(f"{kind.labels_ja[n]}（{n}）"
                                              for n in self.missing)
                + "。見出し行に列を追加してください。",
                f"Required column(s) missing: {', '.join(self.missing)}. "
                "Add them to the header row.")
        if self.missing_contact:
            raise FileRefused("電話番号かメールアドレスの列が必要です。",
                              "A phone or an e-mail column is required.")
        if self.clashes:
            details = "; ".join(f"{n}: {', '.join(t)}" for n, t in self.clashes.items())
            raise FileRefused(f"複数の列が同じ項目を表しています（{details}）。",
                              f"Several columns mean the same field ({details}).")


def match_refund_columns(kind: FileKind, header: list[str],
                         mapping: Mapping[str, str] | None = None) -> RefundColumns:
    """Header cells (trimmed) to fields; an operator's mapping (header -> field or
    IGNORE) wins over the headers the spec names, as for the incident files."""
    positions: dict[str, list[int]] = {}
    for index, text in enumerate(header):
        positions.setdefault(header_key(text), []).append(index)
    chosen: dict[int, str] = {}
    for column, target in (mapping or {}).items():
        name = target.strip().casefold()
        if name not in kind.headers and name != IGNORE:
            raise MappingError(
                f"割り当て先「{target}」という項目はありません。使える項目: "
                f"{', '.join(kind.headers)}",
                f"There is no field {target!r}. Fields: {', '.join(kind.headers)}")
        indexes = positions.get(header_key(column))
        if not indexes:
            raise MappingError(f"列「{column}」はファイルの見出しにありません。",
                               f"The file's header has no column {column!r}.")
        if name != IGNORE and name in chosen.values():
            raise MappingError(f"項目 {name} に2つの列が割り当てられています。",
                               f"Two columns are mapped to the field {name}.")
        for index in indexes:
            chosen[index] = name
    explicit = set(chosen.values())
    claimed: dict[str, list[int]] = {}
    unknown: list[str] = []
    for index, text in enumerate(header):
        name = chosen.get(index) or kind.by_header.get(header_key(text))
        if index not in chosen and name in explicit:
            name = None  # the operator put another column on this field
        if name is None:
            if text and text not in unknown:
                unknown.append(text)
        elif name != IGNORE:
            claimed.setdefault(name, []).append(index)
    by_index = {indexes[0]: name for name, indexes in claimed.items()}
    clashes = {name: [header[i] for i in indexes] for name, indexes in claimed.items()
               if len(indexes) > 1}
    return RefundColumns(kind, list(header), by_index, unknown, clashes)


def _header(path: Path, encoding: str, delimiter: str, rows: int = 0
            ) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """The header's line and trimmed cells, and the first ``rows`` data rows."""
    records = _records(path, encoding, delimiter)
    try:
        first = next(records, None)
        if first is None:
            raise refuse("ファイルが空です（見出し行がありません）。",
                         "The file is empty (there is no header row).")
        sample = list(islice(records, rows))
    finally:
        records.close()
    if len(first[1]) > MAX_COLUMNS:
        raise FileRefused(f"見出し行に{len(first[1]):,}列あります。読み込めるのは"
                          f"{MAX_COLUMNS:,}列までです。",
                          f"The header row has {len(first[1]):,} columns; at most "
                          f"{MAX_COLUMNS:,} are read.")
    return first[0], [cell.strip() for cell in first[1]], sample


def read_refund_file(path: str | Path, kind: FileKind, *, now: datetime,
                     mapping: Mapping[str, str] | None = None,
                     applications_from: date = APPLICATIONS_FROM) -> RefundFile:
    """Check the file as a whole (encoding, header, required columns); FileRefused if
    no row of it could be imported, MappingError for a bad mapping."""
    path = Path(path)
    encoding = detect_file_encoding(path)
    delimiter = delimiter_for(path)
    _line, header, _rows = _header(path, encoding, delimiter)
    match = match_refund_columns(kind, header, mapping)
    match.require_usable()
    return RefundFile(path, kind, encoding=encoding, delimiter=delimiter, header=header,
                      by_index=match.by_index, unknown=match.unknown, now=now,
                      applications_from=applications_from)


def refund_preview(path: str | Path, kind: FileKind, rows: int = 20,
                   mapping: Mapping[str, str] | None = None) -> Preview:
    """What the import wizard shows of a refund file before anything is imported: the
    same record as an incident file's preview (app.importers.incident_csv.preview)."""
    path = Path(path)
    encoding = detect_file_encoding(path)
    delimiter = delimiter_for(path)
    line, header, sample = _header(path, encoding, delimiter, rows)
    match = match_refund_columns(kind, header, mapping)
    return Preview(encoding=encoding, delimiter=delimiter, header_line=line,
                   header=match.header, columns=match.columns, unknown_columns=match.unknown,
                   missing=match.missing, clashes=match.clashes,
                   missing_contact=match.missing_contact, rows=sample)


def check_application_form(values: Mapping[str, str], *, now: datetime,
                           applications_from: date = APPLICATIONS_FROM) -> RefundRow:
    """A phone application typed in the intake form, checked by the file's rules: the
    same fields, the same parsers, the same reasons (``column`` is the field name)."""
    names = list(APPLICATIONS.headers)
    checker = _Checker(APPLICATIONS, names, dict(enumerate(names)), now, applications_from)
    return checker.check(0, [str(values.get(name) or "") for name in names])
