"""The refund files' shortcuts decide exactly as the full rules: a plain phone number or
identifier answered at once is what the full parser gives, anything else goes to it,
and a record's content hash is the frozen serialisation's (stored hashes stay valid, so
a re-import of an earlier file is still a duplicate)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

import pytest

from app.core.clock import JST
from app.domain.refunds import Method, Route
from app.importers import fields as parse
from app.importers.refund_csv import (
    APPLICATIONS,
    BALANCES,
    CONTENT_HASH_VERSION,
    FIELD_CHARS,
    ApplicationRecord,
    BalanceRecord,
    _Checker,
)
from app.services.audit import to_json

NOW = datetime(2020, 3, 1, 12, 0, tzinfo=JST)

PHONES = ["090-1111-2222", "09011112222", "03-1234-5678", "0312345678", "0120-444-444",
          "90-1111-2222", "090-1111-22223", "0901111222", "090111122223", "090--1111-2222",
          "090-1111-2222-", "-090-1111-2222", "０９０-１１１１-２２２２", "090 1111 2222",
          "+81-90-1111-2222", "090ー1111ー2222", "090-1111-2222\x00", "090-١١١١-2222",
          "0" * 41, "0-0-0-0-0-0-0-0-0-0-0", "(03)1234-5678", "abc"]
IDENTIFIERS = ["7i0000000001", "AP00000001", "A 1", "ＡＢＣ１２３", "7i\x7f01", "x" * 64,
               "x" * 65, "ｱｲｳ", "1234567", "123456", "12345678", "１２３４５６７", "12-34567",
               "١٢٣٤٥٦٧", "~!@#$%"]


def _outcome(parser, text):
    try:
        return ("value", parser(text))
    except parse.FieldProblem as problem:
        return ("refused", problem.ja, problem.en)


def _reference_parsers():
    from app.importers.refund_csv import _parsers

    return _parsers(NOW, date(2019, 10, 1))


@pytest.mark.parametrize("text", PHONES)
def test_a_phone_number_answered_at_once_is_what_the_full_parser_gives(text):
    checker = _Checker(BALANCES, list(BALANCES.headers), dict(enumerate(BALANCES.headers)), NOW)
    assert _outcome(checker.parsers["phone"], text) == _outcome(
        _reference_parsers()["phone"], text)


@pytest.mark.parametrize("name", ["member_id", "application_id", "account_number"])
@pytest.mark.parametrize("text", IDENTIFIERS)
def test_an_identifier_answered_at_once_is_what_the_full_parser_gives(name, text):
    checker = _Checker(APPLICATIONS, list(APPLICATIONS.headers),
                       dict(enumerate(APPLICATIONS.headers)), NOW)
    assert _outcome(checker.parsers[name], text) == _outcome(_reference_parsers()[name], text)


def test_whole_rows_are_refused_and_accepted_as_before():
    checker = _Checker(APPLICATIONS, list(APPLICATIONS.headers),
                       dict(enumerate(APPLICATIONS.headers)), NOW)
    good = ["A-1", "7i01", "山田 太郎", "ヤマダ タロウ", "090-1111-2222", "", "1980-01-02",
            "アプリ", "2019/11/01 10:00", "口座振込", "0001", "001", "普通", "1234567",
            "ヤマダ タロウ"]
    row = checker.check(2, good)
    assert row.ok and row.record.phone == "090-1111-2222"
    assert row.record.account_number == "1234567" and row.record.bank_code == "0001"
    bad = list(good)
    bad[0], bad[4], bad[13] = "", "90-1111-2222", "12345"
    refused = checker.check(3, [*bad, "extra"])
    assert not refused.ok
    assert [e.field for e in refused.errors] == ["", "application_id", "phone"]
    bad[4] = "090-1111-2222"
    refused = checker.check(4, [*bad[:1], "M", *bad[2:]])
    assert [e.field for e in refused.errors] == ["application_id"]
    number = checker.check(5, [*good[:13], "12345", good[14]])
    assert [e.field for e in number.errors] == ["account_number"]
    assert len(good[0]) <= FIELD_CHARS["application_id"]


def _reference_hash(record) -> str:
    """The content hash as first written (json.dumps of the fields, dates in ISO)."""
    values = [CONTENT_HASH_VERSION]
    for name in type(record)._fields:
        value = getattr(record, name)
        values.append(value.isoformat() if isinstance(value, date) else value)
    data = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("record", [
    BalanceRecord("7i01", 5000, None, "山田 太郎", "ヤマダ タロウ", "090-1111-2222", None,
                  "100-0005", "東京都\n千代田区 \"1\"", date(1980, 1, 2), None),
    BalanceRecord("7i02", 0, 0, None, None, None, "a@b.jp", None, None, None,
                  date(2019, 8, 1)),
    ApplicationRecord("A-1", None, "山田 太郎", None, None, "a@b.jp", date(1980, 1, 2),
                      Route.WEB, datetime(2019, 11, 1, 10, 0, tzinfo=JST),
                      Method.BANK_TRANSFER, "0001", "001", "ordinary", "1234567", "ﾔﾏﾀﾞ"),
    ApplicationRecord("A-2", "7i01", "𠮷田", "ヨシダ", "090-1111-2222", None, None, Route.APP,
                      datetime(2019, 12, 1, tzinfo=JST), Method.POSTAL_ORDER, None, None,
                      None, None, None),
])
def test_content_hashes_are_the_frozen_serialisations(record):
    assert record.content_hash() == _reference_hash(record)


@pytest.mark.parametrize("data", [
    {"application_id": "A-1", "state": "confirmed", "batch_id": 3},
    {"b": None, "a": [1, "二"], "at": datetime(2020, 1, 1, tzinfo=JST), "d": date(2020, 1, 2),
     "route": Route.APP}])
def test_audit_json_is_json_dumps(data):
    def default(value):
        return value.isoformat() if isinstance(value, date) else value.value

    assert to_json(data) == json.dumps(data, ensure_ascii=False, sort_keys=True,
                                       default=default)


@pytest.mark.parametrize("kind, record", [(BALANCES, BalanceRecord),
                                          (APPLICATIONS, ApplicationRecord)])
def test_a_kinds_fields_are_its_records_in_order(kind, record):
    """The checker makes a record from the kind's values in the kind's order."""
    assert tuple(kind.headers) == record._fields


@pytest.mark.parametrize("text", [*PHONES, "", "0-9", "--", "09011112222 ", " 090", "+81901112222",
                                  "81-90-1111-2222", "１２３", "0120-444-444"])
def test_phone_digits_answered_at_once_are_the_full_rules(text):
    import re
    import unicodedata

    from app.domain.text import phone_digits

    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text))
    if text.strip().startswith(("+81", "＋８１")) and digits.startswith("81"):
        digits = "0" + digits[2:]
    assert phone_digits(text) == digits
