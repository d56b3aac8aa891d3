"""Whole files through read_incidents: encodings, layout, line numbers, errors, hashes."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.clock import JST
from app.domain.channels import Channel
from app.domain.text import tidy_name
from app.importers.fields import parse_free_text
from app.importers.incident_csv import (
    FIELDS,
    FileRefused,
    IncidentRecord,
    ParsedRow,
    preview,
    read_incidents,
)

FULL_HEADER = (
    "受付番号,7iD,氏名,フリガナ,電話番号,メールアドレス,郵便番号,住所,被害区分,発生日時,"
    "被害金額,カード会社,カード下4桁,連絡先受領日,利用店舗,備考"
)
FULL_ROW = (
    "R-001,7id-42,㈱髙橋　①商店,ﾀｶﾊｼ ｼｮｳﾃﾝ,090-1234-5678,taro@example.jp,〒123-4567,"
    '"東京都千代田区丸の内1-1",クレジットカード,2019/7/3 14:05,"￥12,345",セブンカード,0123,'
    "2019/08/01,セブン-イレブン 千代田店,二重請求の疑い～"
)


def rows_of(path, now, **kwargs) -> list[ParsedRow]:
    return list(read_incidents(path, now=now, **kwargs))


def test_a_full_row_is_normalised_field_by_field(write, now):
    incidents = read_incidents(write(f"{FULL_HEADER}\n{FULL_ROW}"), now=now)
    assert incidents.unknown_columns == []
    assert list(incidents.columns.values()) == list(FIELDS)
    (row,) = list(incidents)
    assert row.errors == [] and row.ok
    assert row.line == 2
    assert row.record == IncidentRecord(
        report_id="R-001",
        member_id="7id-42",
        name="㈱髙橋 ①商店",
        name_kana="タカハシ ショウテン",
        phone="090-1234-5678",
        phone_digits="09012345678",
        email="taro@example.jp",
        postal_code="123-4567",
        address="東京都千代田区丸の内1-1",
        channel=Channel.CREDIT_CHARGE,
        occurred_at=datetime(2019, 7, 3, 14, 5, tzinfo=JST),
        amount=12345,
        card_issuer="セブンカード",
        card_last4="0123",
        contact_received_at=date(2019, 8, 1),
        merchant="セブン-イレブン 千代田店",
        note="二重請求の疑い～",
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_the_three_encodings_read_the_same(write, now, encoding):
    incidents = read_incidents(write(f"{FULL_HEADER}\n{FULL_ROW}", encoding=encoding), now=now)
    assert incidents.encoding == encoding
    assert incidents.header[0] == "受付番号"  # no BOM left on the first header
    (row,) = list(incidents)
    assert row.record.name == "㈱髙橋 ①商店"  # never (株), never a replacement character
    assert row.record.note == "二重請求の疑い～"
    assert row.record.amount == 12345


def test_a_cp932_file_with_yen_signs_as_byte_0x5c(write, now):
    rows = [
        "A1,山田,0312345678,credit,2019/7/3,\\1,000",  # unquoted: a misaligned row
        'A2,山田,0312345678,credit,2019/7/3,"\\1,000"',
        "A3,山田,0312345678,credit,2019/7/3,\\2000",
        'A4,山田,0312345678,credit,2019/7/3,"￥3,000"',
        "A5,ﾔﾏﾀﾞ,0312345678,credit,2019/7/3,４０００円",
    ]
    text = "受付番号,氏名,電話番号,区分,発生日,金額\n" + "\n".join(rows)
    data = text.encode("cp932")
    assert data.count(b"\x5c") == 3  # the yen sign really is the backslash byte
    assert "￥".encode("cp932") == b"\x81\x8f"
    parsed = rows_of(write(data), now)
    assert [row.ok for row in parsed] == [False, True, True, True, True]
    assert [row.record.amount for row in parsed[1:]] == [1000, 2000, 3000, 4000]
    assert parsed[4].record.name == "ﾔﾏﾀﾞ"  # the name stays as written
    assert "列が1個多く" in parsed[0].errors[0].ja


def test_half_width_kana_in_cp932_becomes_full_width_katakana(write, now):
    text = (
        "受付番号,氏名,ﾌﾘｶﾞﾅ,電話番号,区分,発生日,金額\n"
        "A1,山田太郎,ﾔﾏﾀﾞ ﾀﾛｳ,0312345678,ﾅﾅｺ,R1.7.3,1000"
    )
    data = text.encode("cp932")
    assert "ﾔ".encode("cp932") == b"\xd4"  # single-byte half-width kana
    (row,) = rows_of(write(data), now)
    assert row.record.name_kana == "ヤマダ タロウ"
    assert row.record.channel is Channel.NANACO_CHARGE


def test_quoted_line_breaks_keep_physical_line_numbers(write, now):
    data = (
        "受付番号,氏名,電話番号,住所,区分,発生日,金額\r\n"  # line 1
        'A1,山田,0312345678,"東京都\r\n千代田区\r\n丸の内1-1",credit,2019/7/3,1000\r\n'  # 2-4
        "A2,佐藤,0312345678,,credit,2019/7/3,0\r\n"  # 5
        "\r\n"  # 6, blank
        'A3,鈴木,0312345678,"大阪府\n大阪市",credit,2019/7/3,1000\r\n'  # 7-8 (LF inside, as Excel)
        ",,,,,,\r\n"  # 9, blank
        "A4,田中,0312345678,,credit,2019/7/3,abc\r\n"  # 10
    ).encode()
    parsed = rows_of(write(data), now)
    assert [row.line for row in parsed] == [2, 5, 7, 10]
    assert [row.ok for row in parsed] == [True, False, True, False]
    assert parsed[0].record.address == "東京都\n千代田区\n丸の内1-1"
    assert parsed[2].record.address == "大阪府\n大阪市"
    assert parsed[0].raw["住所"] == "東京都\r\n千代田区\r\n丸の内1-1"  # raw is as read


def test_lf_files_and_leading_blank_lines(write, now):
    text = (
        "\n"
        "\n"
        "受付番号,氏名,電話番号,区分,発生日,金額\n"
        "A1,山田,0312345678,credit,2019/7/3,1000\n"
        "\n"
        "A2,山田,0312345678,credit,2019/7/3,1000"
    )
    incidents = read_incidents(write(text, newline="\n"), now=now)
    assert incidents.header_line == 3
    assert [row.line for row in incidents] == [4, 6]


@pytest.mark.parametrize("name", ["incidents.tsv", "incidents.txt", "INCIDENTS.TSV"])
def test_tab_delimited_files_by_extension(write, now, name):
    text = (
        "受付番号\t氏名\t電話番号\t区分\t発生日\t金額\tメモ欄\n"
        "A1\t山田, 太郎\t0312345678\tcredit\t2019/7/3\t1,000\tx"
    )
    incidents = read_incidents(write(text, name=name), now=now)
    assert incidents.delimiter == "\t"
    assert incidents.unknown_columns == ["メモ欄"]
    (row,) = list(incidents)
    assert row.record.name == "山田, 太郎"
    assert row.record.amount == 1000


def test_a_tab_file_named_csv_is_refused_with_a_hint(write, now):
    path = write(
        "受付番号\t氏名\t電話番号\t区分\t発生日\t金額\nA1\t山田\t0312345678\tcredit\t2019/7/3\t1"
    )
    with pytest.raises(FileRefused, match=r"\.tsv"):
        read_incidents(path, now=now)
    assert read_incidents(path, now=now, delimiter="\t").delimiter == "\t"


def test_unknown_columns_are_listed_and_kept_in_raw(write, now):
    text = (
        "受付番号,社内メモ,氏名,電話番号,区分,発生日,金額,担当者\n"
        "A1,要確認,山田,0312345678,credit,2019/7/3,1000,佐藤"
    )
    incidents = read_incidents(write(text), now=now)
    assert incidents.unknown_columns == ["社内メモ", "担当者"]
    (row,) = list(incidents)
    assert row.ok
    assert row.raw["社内メモ"] == "要確認" and row.raw["担当者"] == "佐藤"
    assert row.cells == ("A1", "要確認", "山田", "0312345678", "credit", "2019/7/3", "1000", "佐藤")


def test_every_error_of_a_row_is_reported_with_column_field_and_both_languages(write, now):
    text = (
        "受付番号,氏名,フリガナ,TEL,メール,〒,区分,発生日,金額,カード下4桁,連絡受付日\n"
        ",  ,Yamada,12-34,taro@,12345,現金,2019/02/30,1000.5,12,2019/02/30 10:00"
    )
    (row,) = rows_of(write(text), now)
    assert row.record is None and not row.ok
    found = {(error.column, error.field) for error in row.errors}
    assert found == {
        ("受付番号", "report_id"),
        ("氏名", "name"),
        ("フリガナ", "name_kana"),
        ("TEL", "phone"),
        ("メール", "email"),
        ("〒", "postal_code"),
        ("区分", "channel"),
        ("発生日", "occurred_at"),
        ("金額", "amount"),
        ("カード下4桁", "card_last4"),
        ("連絡受付日", "contact_received_at"),
    }
    assert [error.field for error in row.errors][:3] == ["report_id", "name", "name_kana"]
    for error in row.errors:
        assert error.ja and error.en and error.ja != error.en
        assert error.message.startswith(f"{error.column}: ")
    by_field = {error.field: error for error in row.errors}
    assert by_field["report_id"].ja == "必須項目が空です。"
    assert by_field["amount"].value == "1000.5"
    assert "小数" in by_field["amount"].ja


@pytest.mark.parametrize(
    ("cells", "field", "reason"),
    [
        ({"name": ""}, "name", "必須"),
        ({"channel": ""}, "channel", "必須"),
        ({"occurred_at": ""}, "occurred_at", "必須"),
        ({"amount": ""}, "amount", "必須"),
        ({"occurred_at": "令和元年4月30日"}, "occurred_at", "期間外"),
        ({"occurred_at": "2024/06/01 12:01"}, "occurred_at", "取込日時より後"),
        ({"amount": "0"}, "amount", "0円"),
        ({"amount": "-500"}, "amount", "マイナス"),
        ({"amount": "1000001"}, "amount", "上限"),
        ({"amount": "千円"}, "amount", "数字ではありません"),
        ({"phone": "", "email": ""}, "phone/email", "どちらか"),
    ],
)
def test_each_rejection_reason_in_a_file(write, now, cells, field, reason):
    values = {
        "report_id": "A1",
        "name": "山田",
        "phone": "0312345678",
        "email": "",
        "channel": "credit",
        "occurred_at": "2019/7/3",
        "amount": "1000",
    } | cells
    text = "report_id,name,phone,email,channel,occurred_at,amount\n" + ",".join(values.values())
    (row,) = rows_of(write(text), now)
    assert not row.ok
    assert [error.field for error in row.errors] == [field]
    assert reason in row.errors[0].ja
    if field == "phone/email":
        assert row.errors[0].column == "phone / email"


def test_phone_or_email_either_is_enough(write, now):
    text = (
        "受付番号,氏名,電話番号,メール,区分,発生日,金額\n"
        "A1,山田,,a@example.jp,credit,2019/7/3,1\n"
        "A2,山田,0312345678,,credit,2019/7/3,1\n"
        "A3,山田,0312345678,bad,credit,2019/7/3,1"
    )
    parsed = rows_of(write(text), now)
    assert [row.ok for row in parsed] == [True, True, False]
    assert parsed[0].record.phone is None and parsed[0].record.phone_digits is None
    assert parsed[1].record.email is None
    assert [error.field for error in parsed[2].errors] == ["email"]  # no extra phone/email error


def test_the_ceiling_is_a_parameter(write, now):
    text = "受付番号,氏名,電話番号,区分,発生日,金額\nA1,山田,0312345678,credit,2019/7/3,50000"
    assert rows_of(write(text), now)[0].ok
    (row,) = rows_of(write(text), now, ceiling=49999)
    assert "49,999円" in row.errors[0].ja


def test_an_unclosed_quote_that_swallows_rows_rejects_the_row(write, now):
    text = (
        "受付番号,氏名,電話番号,区分,発生日,金額,備考\n"
        'A1,山田,0312345678,credit,2019/7/3,1000,"メモ\n'
        "A2,佐藤,0312345678,credit,2019/7/3,2000,\n"
        "A3,鈴木,0312345678,credit,2019/7/3,3000,"
    )
    (row,) = rows_of(write(text), now)
    assert not row.ok
    assert row.line == 2
    assert "2〜4行目が1行として読まれました" in row.errors[0].ja


def test_a_long_multiline_note_is_accepted(write, now):
    note = "\n".join(f"{i}行目、確認済み" for i in range(10))
    text = (
        f"受付番号,氏名,電話番号,区分,発生日,金額,備考\n"
        f'A1,山田,0312345678,credit,2019/7/3,1000,"{note}"'
    )
    (row,) = rows_of(write(text, newline="\n"), now)
    assert row.ok and row.record.note == note


def test_rows_shorter_than_the_header_read_missing_cells_as_empty(write, now):
    text = (
        "受付番号,氏名,電話番号,区分,発生日,金額,備考,住所\nA1,山田,0312345678,credit,2019/7/3,1000"
    )
    (row,) = rows_of(write(text), now)
    assert row.ok and row.record.note is None and row.record.address is None
    assert row.raw["住所"] == ""


def test_trailing_empty_cells_beyond_the_header_are_harmless(write, now):
    text = "受付番号,氏名,電話番号,区分,発生日,金額\nA1,山田,0312345678,credit,2019/7/3,1000,,,"
    assert rows_of(write(text), now)[0].ok


def test_blank_rows_are_skipped_not_counted(write, now):
    text = (
        "受付番号,氏名,電話番号,区分,発生日,金額\n"
        "\n"
        ",,,,,\n"
        " , ,　, , ,\n"
        "A1,山田,0312345678,credit,2019/7/3,1000\n"
        "\n"
    )
    parsed = rows_of(write(text), now)
    assert len(parsed) == 1 and parsed[0].line == 5


def test_the_file_can_be_read_twice_and_reports_progress_and_digest(write, now):
    text = "受付番号,氏名,電話番号,区分,発生日,金額\n" + "\n".join(
        f"A{i},山田,0312345678,credit,2019/7/3,{i + 1}" for i in range(100)
    )
    path = write(text)
    incidents = read_incidents(path, now=now)
    assert incidents.bytes_read == 0
    assert incidents.size == path.stat().st_size
    first = [row.record.amount for row in incidents]
    assert incidents.bytes_read == incidents.size
    assert [row.record.amount for row in incidents] == first == list(range(1, 101))
    assert incidents.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_naive_import_time_is_a_programming_error(write):
    with pytest.raises(ValueError, match="timezone"):
        read_incidents(write("a"), now=datetime(2024, 1, 1))


def test_preview_reads_only_the_start(write, tmp_path):
    text = "受付番号,氏名,電話番号,区分,発生日,金額,謎\n" + "\n".join(
        f"A{i},山田,0312345678,credit,2019/7/3,{i}" for i in range(1000)
    )
    path = write(text, encoding="cp932")
    shown = preview(path, rows=3)
    assert shown.encoding == "cp932" and shown.delimiter == ","
    assert shown.header_line == 1
    assert shown.header == ["受付番号", "氏名", "電話番号", "区分", "発生日", "金額", "謎"]
    assert shown.columns["発生日"] == "occurred_at"
    assert shown.unknown_columns == ["謎"]
    assert shown.usable and shown.missing == [] and shown.clashes == {}
    assert shown.rows == [
        (2, ["A0", "山田", "0312345678", "credit", "2019/7/3", "0"]),
        (3, ["A1", "山田", "0312345678", "credit", "2019/7/3", "1"]),
        (4, ["A2", "山田", "0312345678", "credit", "2019/7/3", "2"]),
    ]


# ---------------------------------------------------------------- content hash


def record(**changes) -> IncidentRecord:
    base = IncidentRecord(
        report_id="R-1",
        member_id=None,
        name="山田 太郎",
        name_kana="ヤマダ タロウ",
        phone="090-1234-5678",
        phone_digits="09012345678",
        email="Taro@example.jp",
        postal_code="123-4567",
        address="東京都\n千代田区",
        channel=Channel.DEBIT_CHARGE,
        occurred_at=datetime(2019, 7, 3, 14, 5, tzinfo=JST),
        amount=1000,
        card_issuer=None,
        card_last4=None,
        contact_received_at=date(2019, 8, 1),
        merchant=None,
        note="メモ",
    )
    return dataclasses.replace(base, **changes)


def test_same_content_same_hash_even_when_spelt_differently():
    one = record()
    assert one.content_hash() == record().content_hash()
    assert len(one.content_hash()) == 64
    same = record(
        phone="09012345678",  # hyphens
        email="taro@EXAMPLE.jp",  # case
        occurred_at=datetime(2019, 7, 3, 5, 5, tzinfo=UTC),  # the same instant
        address="東京都\r\n千代田区",  # line ends
    )
    assert same.content_hash() == one.content_hash()
    assert same.differences(one) == []


CHANGES = {
    "report_id": "R-2",
    "member_id": "7id-1",
    "name": "山田 次郎",
    "name_kana": "ヤマダ ジロウ",
    "phone_digits": "09000000000",
    "email": "jiro@example.jp",
    "postal_code": "765-4321",
    "address": "大阪府",
    "channel": Channel.CREDIT_CHARGE,
    "occurred_at": datetime(2019, 7, 3, 14, 6, tzinfo=JST),
    "amount": 1001,
    "card_issuer": "セブンカード",
    "card_last4": "1234",
    "contact_received_at": date(2019, 8, 2),
    "merchant": "店",
    "note": "メモ2",
}


@pytest.mark.parametrize(("name", "value"), CHANGES.items())
def test_any_field_that_differs_changes_the_hash_and_is_named(name, value):
    one, other = record(), record(**{name: value})
    assert other.content_hash() != one.content_hash()
    expected = "phone" if name == "phone_digits" else name
    assert one.differences(other) == [expected]


def test_differences_lists_several_fields_in_contract_order():
    one = record()
    other = record(amount=5, name="別人", channel=Channel.NANACO_CHARGE)
    assert one.differences(other) == ["name", "channel", "amount"]


def test_rows_from_two_files_compare_by_content(write, now):
    first = "受付番号,氏名,電話番号,区分,発生日,金額\nA1,山田,090-1234-5678,credit,2019/07/03,1000"
    second = (
        "氏名,金額,発生日時,区分,電話番号,受付番号\n"
        '山田,"￥1,000",令和元年7月3日,クレジット,09012345678,A1'
    )
    third = "受付番号,氏名,電話番号,区分,発生日,金額\nA1,山田,090-1234-5678,credit,2019/07/03,2000"
    (a,) = rows_of(write(first, name="a.csv"), now)
    (b,) = rows_of(write(second, name="b.csv", encoding="cp932"), now)
    (c,) = rows_of(write(third, name="c.csv"), now)
    assert a.record.content_hash() == b.record.content_hash()
    assert a.record.differences(c.record) == ["amount"]


def test_a_file_changed_between_check_and_read_is_refused(write, now):
    path = write("受付番号,氏名,電話番号,区分,発生日,金額\nA1,山田,0312345678,credit,2019/7/3,1")
    incidents = read_incidents(path, now=now)
    write("全く別の,ファイル\n1,2")
    with pytest.raises(FileRefused, match="変更されました"):
        list(incidents)


NAME_CHARS = "山田太郎髙橋﨑①㈱～ｱｲｳ 　あいう"
FREE_CHARS = NAME_CHARS + 'abc,"\n\r\t;-'


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.text(NAME_CHARS, min_size=1, max_size=8).filter(lambda n: n.strip(" 　")),
            st.text(FREE_CHARS, max_size=20),
            st.integers(min_value=1, max_value=1_000_000),
        ),
        min_size=1,
        max_size=15,
    ),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932"]),
    line_end=st.sampled_from(["\r\n", "\n"]),
)
def test_any_file_written_by_a_csv_writer_reads_back(rows, encoding, line_end):
    buffer = io.StringIO(newline="")
    # With LF line ends Python's writer leaves a lone CR unquoted (Excel would quote it).
    quoting = csv.QUOTE_MINIMAL if line_end == "\r\n" else csv.QUOTE_ALL
    writer = csv.writer(buffer, lineterminator=line_end, quoting=quoting)
    writer.writerow(["受付番号", "氏名", "電話番号", "区分", "発生日", "金額", "住所"])
    expected_lines = []
    line = 2
    for index, (name, address, yen) in enumerate(rows):
        expected_lines.append(line)
        cells = [f"R{index}", name, "03-1234-5678", "credit", "2019/7/3", f"{yen:,}", address]
        before = buffer.tell()
        writer.writerow(cells)
        written = buffer.getvalue()[before:]
        # A physical line ends at LF, CRLF or a lone CR, as the reader counts them.
        line += written.replace("\r\n", "\n").replace("\r", "\n").count("\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(buffer.getvalue().encode(encoding))
        parsed = list(read_incidents(path, now=datetime(2024, 6, 1, tzinfo=JST)))
    assert [row.line for row in parsed] == expected_lines
    for row, (name, address, yen) in zip(parsed, rows, strict=True):
        assert row.ok, row.errors
        assert row.record.name == tidy_name(name)
        assert row.record.amount == yen
        assert row.record.address == (parse_free_text(address) or None)
        assert row.raw["住所"] == address


# The content hash is stored with every incident: the fast writer must equal json.dumps.
_free = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)


@given(name=_free, address=st.one_of(st.none(), _free), note=st.one_of(st.none(), _free),
       amount=st.integers(1, 10**7), email=st.one_of(st.none(), st.emails()))
def test_fingerprint_matches_the_stored_form(name, address, note, amount, email):
    import json
    import re

    from app.importers.incident_csv import CONTENT_HASH_VERSION, field_digest, fingerprint
    one = record(name=name, address=address, note=note, amount=amount, email=email)
    squashed = {"name": name, "address": address or "", "note": note or ""}
    for field_name, text in squashed.items():  # whitespace runs as one space, as first written
        assert one.canonical()[field_name] == re.sub(r"\s+", " ", text).strip()
    payload = {"v": CONTENT_HASH_VERSION, **one.canonical()}
    reference = hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True,
                                          separators=(",", ":")).encode("utf-8")).hexdigest()
    assert fingerprint(one) == (reference, field_digest(one))
    assert one.content_hash() == reference
