"""The balance-refund files read by the incident engine's rules (balance-refund.md,
"The files"): every field bounded by its column, each refused row naming its line and
field in Japanese and English, applications from 1 October 2019 only, the columns
matched or mapped as in the wizard, and the kind of a file told by its header."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import String

from app.core.clock import JST
from app.importers.columns import IGNORE, MappingError
from app.importers.kinds import recognise, recognise_file
from app.importers.refund_csv import (
    APPLICATIONS,
    BALANCES,
    FIELD_CHARS,
    check_application_form,
    read_refund_file,
    refund_preview,
)
from app.importers.textfile import FileRefused
from app.storage.models import RefundApplication, RefundMember

NOW = datetime(2020, 3, 1, 12, 0, tzinfo=JST)
BALANCE_HEADER = ("会員ID,残高,不正チャージ由来残高,氏名,フリガナ,電話番号,メールアドレス,郵便番号,"
                  "住所,生年月日,退会日")
BALANCE = {"member_id": "7i0001", "balance": "5,000円", "fraud_charge_balance": "",
           "name": "山田 太郎", "name_kana": "ヤマダ タロウ", "phone": "090-1111-2222",
           "email": "taro@example.jp", "postal_code": "100-0005", "address": "東京都千代田区",
           "birth_date": "1980/01/02", "closed_on": ""}
APPLICATION_HEADER = ("申出番号,会員ID,氏名,フリガナ,電話番号,メールアドレス,生年月日,申出経路,"
                      "申出日時,払戻方法,金融機関コード,支店コード,預金種目,口座番号,口座名義")
APPLICATION = {"application_id": "A-1", "member_id": "7i0001", "name": "山田 太郎",
               "name_kana": "ヤマダ タロウ", "phone": "090-1111-2222", "email": "",
               "birth_date": "1980-01-02", "route": "アプリ", "applied_at": "2019/11/01 10:00",
               "method": "口座振込", "bank_code": "0001", "branch_code": "001",
               "account_type": "普通", "account_number": "1234567",
               "account_holder_kana": "ヤマダ タロウ"}


def quoted(values) -> str:
    return ",".join('"' + v.replace('"', '""') + '"' for v in values)


def rows_of(write, header: str, base: dict, kind, *changed: dict):
    lines = [header] + [quoted({**base, **cells}.values()) for cells in changed]
    return list(read_refund_file(write("\n".join(lines), name="refund.csv"), kind, now=NOW))


def reasons(row) -> dict[str, tuple[str, str, str]]:
    return {e.field: (e.column, e.ja, e.en) for e in row.errors}


# ---------------------------------------------------------------- lengths


def test_the_limits_are_the_columns_lengths():
    columns = {**RefundMember.__table__.c, **RefundApplication.__table__.c}
    stored = {"application_id": "application_id", "account_holder_kana": "holder_kana"}
    for name, limit in FIELD_CHARS.items():
        column = columns[stored.get(name, name)]
        if isinstance(column.type, String) and column.type.length:
            assert column.type.length == limit, name
    # The folded keys beside them are as long as their field.
    assert RefundMember.__table__.c.kana_key.type.length == FIELD_CHARS["name_kana"]
    assert RefundMember.__table__.c.email_key.type.length == FIELD_CHARS["email"]


@pytest.mark.parametrize(("field", "too_long"), [
    ("member_id", "7" * 65),
    ("name", "山" * 201),
    ("name_kana", "ヤ" * 201),
    ("phone", "090" + "-" * 38 + "1111-2222"),
    ("email", "a" * 250 + "@example.jp"),
    ("postal_code", "1" * 9),
    ("address", "東" * 1001),
    ("balance", "1" * 101),
    ("birth_date", "1" * 101),
    ("closed_on", "2" * 101),
])
def test_a_balance_row_with_a_value_too_long_is_refused_naming_line_and_field(
        write, field, too_long):
    rows = rows_of(write, BALANCE_HEADER, BALANCE, BALANCES, {}, {field: too_long})
    good, bad = rows
    assert good.ok and not bad.ok and bad.line == 3
    column, ja, en = reasons(bad)[field]
    assert column == BALANCE_HEADER.split(",")[list(BALANCE).index(field)]
    assert "文字" in ja or "桁" in ja or "数字" in ja or "形式" in ja, ja
    assert en and ja != en  # both languages


def test_a_folded_key_longer_than_its_column_is_refused(write):
    # ß folds to ss: 253 characters of e-mail that would store a 254+ key.
    email = "ß" * 3 + "a" * 238 + "@example.jp"
    (row,) = rows_of(write, BALANCE_HEADER, BALANCE, BALANCES, {"email": email})
    assert "email" in reasons(row)


@pytest.mark.parametrize(("field", "value", "needle"), [
    ("name", "山田\x07太郎", "U+0007"),
    ("balance", "١٠٠٠", "U+0661"),  # Arabic-Indic digits pass int(), never Excel
    ("phone", "090-1111-222𝟐", "U+1D7D0"),
    ("balance", "-100", "マイナス"),
    ("balance", "100.5", "整数"),
    ("fraud_charge_balance", "abc", "数字"),
    ("birth_date", "1899/12/31", "1900"),
    ("birth_date", "2021/01/01", "取込日"),
    ("closed_on", "2019/02/30", "存在しない"),
    ("postal_code", "12-345", "7桁"),
])
def test_each_balance_field_is_checked_bilingually(write, field, value, needle):
    (row,) = rows_of(write, BALANCE_HEADER, BALANCE, BALANCES, {field: value})
    _column, ja, en = reasons(row)[field]
    assert needle in ja + en and en


def test_a_balance_within_every_bound_is_read(write):
    (row,) = rows_of(write, BALANCE_HEADER, BALANCE, BALANCES,
                     {"balance": "１，０００円", "fraud_charge_balance": "\\400",
                      "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "closed_on": "令和元年9月30日"})
    record = row.record
    assert (record.balance, record.fraud_charge_balance) == (1000, 400)
    assert record.name_kana == "ヤマダ タロウ" and record.closed_on == date(2019, 9, 30)


# ---------------------------------------------------------------- applications


@pytest.mark.parametrize("applied", ["2019/09/30 23:59", "2019-09-30T14:59:59Z", "R1.9.1",
                                     "2019/01/05"])
def test_an_application_before_applications_opened_is_refused(write, applied):
    (row,) = rows_of(write, APPLICATION_HEADER, APPLICATION, APPLICATIONS,
                     {"applied_at": applied})
    column, ja, en = reasons(row)["applied_at"]
    assert column == "申出日時" and "2019年10月1日" in ja and "2019-10-01" in en


@pytest.mark.parametrize("applied", ["2019/10/01", "2019-09-30T15:00:00Z",
                                     "2020/01/11 00:00"])
def test_an_application_from_the_first_day_on_is_read(write, applied):
    (row,) = rows_of(write, APPLICATION_HEADER, APPLICATION, APPLICATIONS,
                     {"applied_at": applied})
    assert row.ok, row.errors


def test_the_first_day_is_a_setting(write):
    path = write(APPLICATION_HEADER + "\n" + quoted(APPLICATION.values()), name="a.csv")
    (row,) = read_refund_file(path, APPLICATIONS, now=NOW, applications_from=date(2019, 12, 1))
    assert "applied_at" in reasons(row)
    form = check_application_form({**APPLICATION, "applied_at": "2019/11/30"}, now=NOW,
                                  applications_from=date(2019, 12, 1))
    assert "applied_at" in reasons(form)


@pytest.mark.parametrize(("field", "value"), [
    ("application_id", "A" * 65), ("name", "山" * 201), ("route", "x" * 101),
    ("method", "郵便"), ("account_number", "12345678"), ("account_holder_kana", "ヤ" * 101),
    ("applied_at", "2019/11/01 25:00"),
])
def test_application_fields_are_bounded(write, field, value):
    (row,) = rows_of(write, APPLICATION_HEADER, APPLICATION, APPLICATIONS, {field: value})
    assert not row.ok and field in reasons(row), row.errors


def test_the_phone_form_gives_the_same_reasons_as_the_file(write):
    bad = {"applied_at": "2019/09/01", "name": "山" * 201, "phone": "1111-2222"}
    (row,) = rows_of(write, APPLICATION_HEADER, APPLICATION, APPLICATIONS, bad)
    form = check_application_form({**APPLICATION, **bad}, now=NOW)
    assert {e.field: e.ja for e in form.errors} == {e.field: e.ja for e in row.errors}


# ---------------------------------------------------------------- columns and kinds


def test_preview_names_missing_and_clashing_columns_and_a_mapping_settles_them(write):
    path = write("会員ID,氏名,お名前,請求残高\nM1,山田,山田,100", name="b.csv")
    found = refund_preview(path, BALANCES)
    assert found.missing == ["balance"] and found.clashes == {"name": ["氏名", "お名前"]}
    assert not found.usable and found.rows == [(2, ["M1", "山田", "山田", "100"])]
    settled = refund_preview(path, BALANCES, mapping={"請求残高": "balance", "お名前": IGNORE})
    assert settled.usable and settled.columns == {"会員ID": "member_id", "氏名": "name",
                                                  "請求残高": "balance"}
    (row,) = read_refund_file(path, BALANCES, now=NOW,
                              mapping={"請求残高": "balance", "お名前": IGNORE})
    assert row.record.balance == 100
    with pytest.raises(FileRefused):
        read_refund_file(path, BALANCES, now=NOW)
    with pytest.raises(MappingError):
        refund_preview(path, BALANCES, mapping={"請求残高": "amount"})


def test_an_applications_file_without_phone_or_email_columns_is_refused(write):
    path = write("申出番号,氏名,申出経路,申出日時,払戻方法\nA1,山田,アプリ,2019/11/01,払出証書",
                 name="a.csv")
    assert refund_preview(path, APPLICATIONS).missing_contact
    with pytest.raises(FileRefused) as refused:
        read_refund_file(path, APPLICATIONS, now=NOW)
    assert "電話番号" in refused.value.ja and "phone" in refused.value.en


def test_the_kind_of_a_file_is_told_by_its_header(write):
    assert recognise(BALANCE_HEADER.split(",")) == "balances"
    assert recognise(APPLICATION_HEADER.split(",")) == "applications"
    incidents = ["受付番号", "氏名", "電話番号", "被害区分", "発生日時", "被害金額"]
    assert recognise(incidents) == "incidents"
    assert recognise(["balance", "member_id"]) == "balances"  # English, any order
    assert recognise(["会員ID", "氏名"]) is None  # no kind's required columns
    both = BALANCE_HEADER.split(",") + APPLICATION_HEADER.split(",")
    assert recognise(both) is None  # two kinds at once: the operator chooses
    path = write(APPLICATION_HEADER, name="a.csv", encoding="cp932")
    assert recognise_file(path) == "applications"


def test_progress_counts_the_bytes_read(write):
    lines = [BALANCE_HEADER] + [quoted({**BALANCE, "member_id": f"M{i}"}.values())
                                for i in range(50)]
    source = read_refund_file(write("\n".join(lines), name="b.csv"), BALANCES, now=NOW)
    assert source.bytes_read == 0 and source.size > 0
    assert len(list(source)) == 50 and source.bytes_read == source.size
