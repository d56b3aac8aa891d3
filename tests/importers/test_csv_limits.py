"""Hostile cells and files: every value within its column's length and a sane range,
digits only as Excel writes them, and no header or cell large enough to hang or exhaust
the reader. Each finding of issue 13 ("Bad input") first failed here."""

from __future__ import annotations

import tracemalloc
from datetime import datetime

import pytest

from app.core.clock import JST
from app.importers.columns import MAX_COLUMNS, match_columns
from app.importers.fields import FieldProblem, parse_amount, parse_day, parse_occurred_at
from app.importers.incident_csv import FileRefused, preview, read_incidents
from app.importers.limits import MAX_CHARS

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=JST)
HEADER = ("受付番号,7iD,氏名,フリガナ,電話番号,メールアドレス,郵便番号,住所,被害区分,発生日時,"
          "被害金額,カード会社,カード下4桁,連絡先受領日,利用店舗,備考")
GOOD = {
    "report_id": "R-1", "member_id": "7i0001", "name": "山田 太郎", "name_kana": "ヤマダ タロウ",
    "phone": "090-1234-5678", "email": "taro@example.jp", "postal_code": "123-4567",
    "address": "東京都千代田区丸の内1-1", "channel": "nanaco", "occurred_at": "2019/07/03",
    "amount": "1000", "card_issuer": "セブンカード", "card_last4": "0123",
    "contact_received_at": "2019/08/01", "merchant": "千代田店", "note": "備考",
}


def one_row(write, **cells: str):
    """Read a file of the full header and one row (GOOD, with ``cells`` replaced)."""
    values = {**GOOD, **cells}
    line = ",".join('"' + v.replace('"', '""') + '"' for v in values.values())
    rows = list(read_incidents(write(f"{HEADER}\n{line}"), now=NOW))
    assert len(rows) == 1
    return rows[0]


def reasons(row) -> dict[str, str]:
    return {error.field: f"{error.ja} / {error.en}" for error in row.errors}


# ---------------------------------------------------------------- lengths


@pytest.mark.parametrize(("field", "too_long"), [
    ("report_id", "R" * 65),
    ("member_id", "7" * 65),
    ("name", "山" * 201),
    ("name_kana", "ヤ" * 201),
    ("phone", "090" + "-" * 38 + "1234-5678"),  # padded past the column's 40 characters
    ("email", "a" * 250 + "@example.jp"),
    ("address", "東" * (MAX_CHARS["address"] + 1)),
    ("card_issuer", "カ" * 101),
    ("merchant", "店" * 201),
    ("note", "備" * (MAX_CHARS["note"] + 1)),
])
def test_a_value_longer_than_its_column_rejects_the_row_naming_the_field(write, field,
                                                                          too_long):
    row = one_row(write, **{field: too_long})
    assert not row.ok
    assert list(reasons(row)) == [field]
    assert f"{MAX_CHARS[field]:,}" in reasons(row)[field]
    assert row.errors[0].column  # the header text, as in the file


@pytest.mark.parametrize("field", ["report_id", "member_id", "name", "name_kana",
                                   "card_issuer", "merchant"])
def test_a_value_exactly_at_its_limit_is_accepted(write, field):
    fill = {"name_kana": "ヤ", "member_id": "7"}.get(field, "X")
    assert one_row(write, **{field: fill * MAX_CHARS[field]}).ok


def test_a_name_that_grows_past_its_column_once_folded_is_rejected(write):
    # U+FDFA is one character that NFKC spells out as 18: the search key would not fit.
    row = one_row(write, name="\ufdfa" * 14)  # 14 characters, 210 once folded
    assert list(reasons(row)) == ["name"]
    assert "200" in reasons(row)["name"]


def test_a_member_id_that_grows_past_its_column_once_folded_is_rejected(write):
    assert one_row(write, member_id="㍿" * 16).ok  # 64 characters once folded
    assert list(reasons(one_row(write, member_id="㍿" * 17))) == ["member_id"]


# ---------------------------------------------------------------- numbers and digits


def test_an_amount_of_thousands_of_digits_is_above_the_ceiling_not_a_crash(write):
    row = one_row(write, amount="9" * 5000)
    assert list(reasons(row)) == ["amount"]
    assert "ceiling" in reasons(row)["amount"]
    with pytest.raises(FieldProblem, match="ceiling"):
        parse_amount("1" * 4301, ceiling=10 ** 5000)  # even under a silly ceiling
    assert parse_amount("0" * 5000 + "1000", ceiling=1_000_000) == 1000


def test_an_amount_padded_with_spaces_is_refused_at_once():
    # Three optional space runs in a row made the old pattern backtrack for minutes.
    with pytest.raises(FieldProblem):
        parse_amount("-" + " " * 3000 + "x", ceiling=1_000_000)


@pytest.mark.parametrize("digits", [
    "٣٠٠٠",  # Arabic-Indic
    "३०००",  # Devanagari
    "𝟑𝟎𝟎𝟎",  # mathematical bold
    "③000",  # circled
    "³000",  # superscript
])
@pytest.mark.parametrize("field", ["amount", "phone", "postal_code", "card_last4",
                                   "occurred_at", "contact_received_at"])
def test_only_ascii_or_full_width_digits_are_digits(write, field, digits):
    value = {"amount": digits, "phone": "090" + digits + "5678",
             "postal_code": digits[:3] + "-" + digits, "card_last4": digits,
             "occurred_at": "2019/07/0" + digits[0], "contact_received_at": "2019/08/0" + digits[0],
             }[field]
    row = one_row(write, **{field: value})
    assert list(reasons(row)) == [field], value
    assert "digit" in reasons(row)[field] or "数字" in reasons(row)[field]


def test_full_width_digits_are_still_digits(write):
    row = one_row(write, amount="３，０００円", phone="０９０－１２３４－５６７８",
                  postal_code="１２３－４５６７", card_last4="０１２３",
                  occurred_at="２０１９／０７／０３")
    assert row.ok
    assert (row.record.amount, row.record.phone_digits) == (3000, "09012345678")


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize("text", ["0001-01-01", "1900/01/01", "2018/12/31", "2018-12-31T23:59:59",
                                  "2018-12-31T14:59:59+00:00", "H30.12.31", "昭和64年1月7日",
                                  "S64.1.7", "H1.1.8"])
def test_a_date_before_2019_is_refused(text):
    with pytest.raises(FieldProblem, match="2019") as caught:
        parse_occurred_at(text, now=NOW)
    assert "2019-01-01" in caught.value.en
    with pytest.raises(FieldProblem, match="2019"):
        parse_day(text.split("T")[0], now=NOW)


@pytest.mark.parametrize("text", ["9999-12-31", "9999-12-31T23:59-12:00", "2024/06/02"])
def test_a_date_after_today_is_refused_even_at_the_end_of_the_calendar(text):
    with pytest.raises(FieldProblem):
        parse_occurred_at(text, now=NOW)


def test_the_range_is_2019_to_the_import_day(write):
    assert parse_occurred_at("2019-01-01", now=NOW) == datetime(2019, 1, 1, tzinfo=JST)
    assert parse_occurred_at("2019-01-01T00:00+09:00", now=NOW).year == 2019
    assert one_row(write, occurred_at="2024/06/01 11:00", contact_received_at="2024/06/01").ok
    row = one_row(write, occurred_at="0001-01-01", contact_received_at="0001-01-01")
    assert list(reasons(row)) == ["occurred_at", "contact_received_at"]


# ---------------------------------------------------------------- control characters


@pytest.mark.parametrize("char", ["\x01", "\x1b", "\x7f", "\x85", "\x0b"])
@pytest.mark.parametrize("field", ["report_id", "name", "address", "note", "amount"])
def test_a_control_character_rejects_the_row_naming_it(write, field, char):
    row = one_row(write, **{field: GOOD[field][:1] + char + GOOD[field][1:]})
    assert list(reasons(row)) == [field]
    assert f"U+{ord(char):04X}" in reasons(row)[field]


def test_line_breaks_and_tabs_in_free_text_are_still_fine(write):
    row = one_row(write, address="東京都\n千代田区\t丸の内")
    assert row.ok and row.record.address == "東京都\n千代田区\t丸の内"


# ---------------------------------------------------------------- header


def test_a_header_of_more_than_the_limit_of_columns_is_refused_whole(write):
    wide = write(HEADER + "".join(f",extra{i}" for i in range(MAX_COLUMNS)) + "\nR1")
    for read in (lambda: read_incidents(wide, now=NOW), lambda: preview(wide)):
        with pytest.raises(FileRefused) as caught:
            read()
        message = str(caught.value)
        assert f"{16 + MAX_COLUMNS:,}" in message and f"{MAX_COLUMNS:,}" in message
    at_limit = write(HEADER + "".join(f",extra{i}" for i in range(MAX_COLUMNS - 16)),
                     name="limit.csv")
    assert len(read_incidents(at_limit, now=NOW).unknown_columns) == MAX_COLUMNS - 16


def test_a_million_column_header_is_refused_with_its_count(write):
    path = write(HEADER + ",x" * 1_000_000)  # 2 MB: refused on the count, not after matching
    with pytest.raises(FileRefused, match="1,000,016"):
        read_incidents(path, now=NOW)


def test_header_matching_is_linear_in_the_columns():
    # 40,000 columns took 12 s (every unknown column was looked for in a list).
    header = HEADER.split(",") + [f"extra{i}" for i in range(100_000)] + ["extra7"]
    match = match_columns(header)
    assert len(match.unknown) == 100_000
    assert match.columns["受付番号"] == "report_id"


# ---------------------------------------------------------------- huge cells


def refused_within(path, megabytes: int) -> FileRefused:
    """Read the file through; the refusal, checking no more than ``megabytes`` were held."""
    tracemalloc.start()
    try:
        with pytest.raises(FileRefused) as caught:
            list(read_incidents(path, now=NOW))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < megabytes * 1_000_000, peak
    return caught.value


def test_a_50_mb_cell_is_refused_without_being_held(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as out:
        out.write((HEADER + "\r\nR1,,山田 太郎,,090-1234-5678,,nanaco,2019/07/03,100,").encode())
        chunk = b"x" * 1_000_000
        for _ in range(50):
            out.write(chunk)
        out.write(b"\r\n")
    refused = refused_within(path, 40)
    assert "line 2" in refused.en and "characters" in refused.en


def test_a_row_of_a_million_quoted_line_breaks_is_refused_without_being_held(tmp_path):
    path = tmp_path / "open.csv"
    with path.open("wb") as out:
        out.write((HEADER + "\r\nR1,").encode())
        out.write(b'"a\r\n",' * 1_000_000)  # every line break is inside quotes: one record
        out.write(b'"end"\r\n')
    refused = refused_within(path, 40)
    assert "line 2" in refused.en


def test_a_cell_over_the_csv_field_limit_is_refused_with_a_clear_message(write):
    path = write(f"{HEADER}\nR1,\"{'x' * 200_000}\"")
    with pytest.raises(FileRefused) as caught:
        list(read_incidents(path, now=NOW))
    assert "line 2" in caught.value.en and "characters" in caught.value.en


# ---------------------------------------------------------------- the table of limits


# Each field's stored columns: the limit must be the length of every one of them.
STORED_IN = {
    "report_id": ["incident.report_id"],
    "member_id": ["victim.member_id"],
    "name": ["victim.name", "victim.name_key"],
    "name_kana": ["victim.name_kana", "victim.kana_key"],
    "phone": ["victim.phone"],
    "email": ["victim.email", "victim.email_key"],
    "postal_code": ["victim.postal_code"],
    "address": ["victim.address"],
    "card_issuer": ["incident.card_issuer"],
    "card_last4": ["incident.card_last4"],
    "merchant": ["incident.merchant"],
    "note": ["incident.note"],
}


def test_the_limits_are_the_column_lengths_of_the_models():
    from sqlalchemy import String, Text

    from app.storage.models import metadata

    assert set(STORED_IN) == set(MAX_CHARS)
    for field, columns in STORED_IN.items():
        for name in columns:
            table, column = name.split(".")
            kind = metadata.tables[table].c[column].type
            if isinstance(kind, Text):  # no length in the database: the program's own
                assert MAX_CHARS[field] <= 10_000, field
            else:
                assert isinstance(kind, String) and kind.length == MAX_CHARS[field], name
    # A phone's digits (10 or 11) always fit their column.
    assert metadata.tables["victim"].c["phone_digits"].type.length >= 11


def test_a_header_longer_than_any_header_is_refused_before_it_is_counted(tmp_path):
    path = tmp_path / "long_header.csv"
    with path.open("wb") as out:
        out.write(HEADER.encode())
        for _ in range(17):
            out.write(b",x" * 500_000)  # 17 million characters, 8.5 million columns
        out.write(b"\r\n")
    with pytest.raises(FileRefused) as caught:
        preview(path)
    assert "header row" in caught.value.en and "16,000,000" in caught.value.en
