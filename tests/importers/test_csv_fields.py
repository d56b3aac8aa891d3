"""One cell at a time: every accepted form of every field, and every refusal."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.clock import JST
from app.domain.channels import Channel
from app.domain.money import DEFAULT_INCIDENT_CEILING
from app.importers.fields import (
    FieldProblem,
    parse_amount,
    parse_card_last4,
    parse_channel,
    parse_day,
    parse_email,
    parse_free_text,
    parse_kana,
    parse_member_id,
    parse_name,
    parse_occurred_at,
    parse_phone,
    parse_postal_code,
    parse_text,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=JST)
FULL_WIDTH = str.maketrans("0123456789/-:.", "０１２３４５６７８９／－：．")


def occurred(text: str) -> datetime:
    return parse_occurred_at(text, now=NOW)


def amount(text: str, ceiling: int = DEFAULT_INCIDENT_CEILING) -> int:
    return parse_amount(text, ceiling=ceiling)


# ---------------------------------------------------------------- occurred_at

DATE_FORMS = [
    ("2019-07-03", datetime(2019, 7, 3, tzinfo=JST)),
    ("2019-07-03T14:05:00+09:00", datetime(2019, 7, 3, 14, 5, tzinfo=JST)),
    ("2019/07/03", datetime(2019, 7, 3, tzinfo=JST)),
    ("2019/7/3 14:05", datetime(2019, 7, 3, 14, 5, tzinfo=JST)),
    ("2019/07/03 14:05:09", datetime(2019, 7, 3, 14, 5, 9, tzinfo=JST)),
    ("2019年7月3日", datetime(2019, 7, 3, tzinfo=JST)),
    ("2019年7月3日 14時5分", datetime(2019, 7, 3, 14, 5, tzinfo=JST)),
    ("令和元年7月3日", datetime(2019, 7, 3, tzinfo=JST)),
    ("令和1年7月3日", datetime(2019, 7, 3, tzinfo=JST)),
    ("R1.7.3", datetime(2019, 7, 3, tzinfo=JST)),
    ("H31.4.30", datetime(2019, 4, 30, tzinfo=JST)),
]


@pytest.mark.parametrize(("text", "expected"), DATE_FORMS)
def test_every_listed_date_form_is_read_in_japan_time(text, expected):
    result = occurred(text)
    assert result == expected
    assert result.utcoffset() == timedelta(hours=9)


@pytest.mark.parametrize(("text", "expected"), DATE_FORMS)
def test_every_listed_date_form_is_read_in_full_width_digits(text, expected):
    wide = text.translate(FULL_WIDTH).replace("R", "Ｒ").replace("H", "Ｈ")
    assert wide != text
    assert occurred(wide) == expected


def test_full_width_space_between_date_and_time():
    assert occurred("２０１９年７月３日　１４時５分") == datetime(2019, 7, 3, 14, 5, tzinfo=JST)


def test_an_offset_is_kept():
    result = occurred("2019-07-03T05:05:00Z")
    assert result.utcoffset() == timedelta(0)
    assert result == datetime(2019, 7, 3, 14, 5, tzinfo=JST)
    minus = occurred("2019-07-03T01:05:00-04:00")
    assert minus.utcoffset() == timedelta(hours=-4)
    assert minus == datetime(2019, 7, 3, 14, 5, tzinfo=JST)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("r1.7.3", date(2019, 7, 3)),
        ("R01.07.03", date(2019, 7, 3)),
        ("H31.1.8", date(2019, 1, 8)),  # the earliest year read (1989 and 1900 are refused)
        ("h31.1.1", date(2019, 1, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("㋿元年5月1日", date(2019, 5, 1)),  # the one-character Reiwa sign, folded by NFKC
        ("2019年7月3日 14:05", date(2019, 7, 3)),
    ],
)
def test_more_era_and_kanji_forms(text, expected):
    assert occurred(text).date() == expected


@pytest.mark.parametrize(
    "text",
    ["2019/02/30", "2019-13-01", "2019年2月29日", "令和元年2月30日", "R1.9.31"],
)
def test_a_date_that_does_not_exist_is_refused(text):
    with pytest.raises(FieldProblem, match="存在しない日付") as caught:
        occurred(text)
    assert "does not exist" in caught.value.en


@pytest.mark.parametrize(
    "text", ["令和元年4月30日", "R1.4.30", "平成31年5月1日", "H32.1.1", "令和0年5月1日"]
)
def test_an_era_date_outside_its_era_is_refused(text):
    with pytest.raises(FieldProblem) as caught:
        occurred(text)
    assert "期間外" in caught.value.ja
    assert "outside" in caught.value.en


def test_a_date_after_the_import_is_refused():
    with pytest.raises(FieldProblem, match="取込日時より後"):
        occurred("2024/06/01 12:01")
    with pytest.raises(FieldProblem, match="取込日時より後"):
        occurred("2024/06/02")
    # Earlier the same day is fine, and so is the very moment of import.
    assert occurred("2024/06/01 11:59") < NOW
    assert occurred("2024/06/01 12:00") == NOW
    # Compared as instants: 03:30 UTC is 12:30 in Japan, after the import.
    with pytest.raises(FieldProblem):
        occurred("2024-06-01T03:30:00Z")


@pytest.mark.parametrize(
    "text",
    [
        "昨日",
        "20190703",
        "43649",  # an Excel serial number
        "2019.07.03",
        "19/7/3",
        "2019/07/03 25:00",
        "2019/07/03 14:60",
        "2019/07/03 14:05 頃",
        "2019-07-03T14:05:00+25:00",
        "X1.7.3",
    ],
)
def test_unreadable_dates_are_refused(text):
    with pytest.raises(FieldProblem):
        occurred(text)


def test_contact_received_at_takes_the_date_forms_without_time():
    for text in (
        "2024-05-01",
        "2024/5/1",
        "2024年5月1日",
        "令和6年5月1日",
        "R6.5.1",
        "Ｒ６．５．１",
    ):
        assert parse_day(text, now=NOW) == date(2024, 5, 1)
    with pytest.raises(FieldProblem, match="日付のみ"):
        parse_day("2024/05/01 10:00", now=NOW)
    with pytest.raises(FieldProblem, match="取込日より後"):
        parse_day("2024/06/02", now=NOW)
    assert parse_day("2024/06/01", now=NOW) == date(2024, 6, 1)


def test_contact_received_at_compares_with_the_japanese_day():
    # 2024-05-31 20:00 UTC is already 1 June in Japan.
    late_utc = datetime(2024, 5, 31, 20, 0, tzinfo=UTC)
    assert parse_day("2024/06/01", now=late_utc) == date(2024, 6, 1)


@given(st.dates(min_value=date(2019, 1, 1), max_value=date(2024, 5, 31)))
def test_any_date_reads_the_same_in_every_form(day):
    from app.core.era import era_of

    era = era_of(day)
    era_year = day.year - era.start.year + 1
    forms = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{era.name}{'元' if era_year == 1 else era_year}年{day.month}月{day.day}日",
        f"{era.letter}{era_year}.{day.month}.{day.day}",
    ]
    for text in forms:
        assert occurred(text) == datetime(day.year, day.month, day.day, tzinfo=JST), text
        assert occurred(text.translate(FULL_WIDTH)).date() == day, text


@given(
    st.datetimes(min_value=datetime(2019, 1, 2), max_value=datetime(2024, 5, 31)),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_iso_with_offset_round_trips(moment, offset_minutes):
    zone = timezone(timedelta(minutes=offset_minutes))
    aware = moment.replace(microsecond=0, tzinfo=zone)
    assert occurred(aware.isoformat()) == aware


# ---------------------------------------------------------------- amount


@pytest.mark.parametrize(
    "text",
    [
        "1000",
        "1,000",
        "¥1,000",
        "￥1,000",
        "1,000円",
        "１，０００円",
        "\\1,000",
        " ¥ 1000 ",
        "１０００",
    ],
)
def test_every_listed_amount_form(text):
    assert amount(text) == 1000


def test_large_amounts_with_grouping():
    assert amount("1,000,000") == 1_000_000
    assert amount("¥12,345") == 12345


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "0円"),
        ("¥0", "0円"),
        ("-1000", "マイナス"),
        ("－１，０００", "マイナス"),
        ("¥-1,000", "マイナス"),
        ("△1,000", "マイナス"),
        ("1000.5", "小数"),
        ("1,000.00", "小数"),
        ("千円", "数字ではありません"),
        ("abc", "数字ではありません"),
        ("1 000", "数字ではありません"),
        ("1,00", "カンマ"),
        ("10,00,000", "カンマ"),
        ("1000001", "上限"),
    ],
)
def test_refused_amounts(text, reason):
    with pytest.raises(FieldProblem) as caught:
        amount(text)
    assert reason in caught.value.ja
    assert caught.value.en


def test_the_ceiling_is_a_parameter():
    assert amount("5,000", ceiling=5000) == 5000
    with pytest.raises(FieldProblem, match="5,000円"):
        amount("5,001", ceiling=5000)


@given(st.integers(min_value=1, max_value=DEFAULT_INCIDENT_CEILING))
def test_any_whole_yen_in_any_spelling(value):
    grouped = f"{value:,}"
    for text in (str(value), grouped, f"¥{grouped}", f"\\{grouped}", f"{grouped}円"):
        assert amount(text) == value
        assert amount(unicodedata.normalize("NFKC", text).translate(FULL_WIDTH)) == value


@given(st.integers(min_value=DEFAULT_INCIDENT_CEILING + 1, max_value=10**12))
def test_any_amount_above_the_ceiling_is_refused(value):
    with pytest.raises(FieldProblem, match="上限"):
        amount(f"{value:,}")


# ---------------------------------------------------------------- channel


@pytest.mark.parametrize(
    ("text", "channel"),
    [
        ("クレジットカード", Channel.CREDIT_CHARGE),
        ("クレジット", Channel.CREDIT_CHARGE),
        ("クレジットカードチャージ", Channel.CREDIT_CHARGE),
        ("credit", Channel.CREDIT_CHARGE),
        ("credit_charge", Channel.CREDIT_CHARGE),
        ("デビットカード", Channel.DEBIT_CHARGE),
        ("デビット", Channel.DEBIT_CHARGE),
        ("デビットカードチャージ", Channel.DEBIT_CHARGE),
        ("debit", Channel.DEBIT_CHARGE),
        ("debit_charge", Channel.DEBIT_CHARGE),
        ("nanaco", Channel.NANACO_CHARGE),
        ("ナナコ", Channel.NANACO_CHARGE),
        ("nanacoポイント", Channel.NANACO_CHARGE),
        ("nanaco_charge", Channel.NANACO_CHARGE),
        ("不正利用", Channel.UNAUTHORIZED_USE),
        ("残高不正利用", Channel.UNAUTHORIZED_USE),
        ("unauthorized_use", Channel.UNAUTHORIZED_USE),
        # after NFKC, case folding and trimming
        (" CREDIT ", Channel.CREDIT_CHARGE),
        ("ｃｒｅｄｉｔ", Channel.CREDIT_CHARGE),
        ("ｸﾚｼﾞｯﾄ", Channel.CREDIT_CHARGE),
        ("ﾅﾅｺ", Channel.NANACO_CHARGE),
        ("NANACOポイント", Channel.NANACO_CHARGE),
        ("Unauthorized_Use", Channel.UNAUTHORIZED_USE),
    ],
)
def test_channel_spellings(text, channel):
    assert parse_channel(text) is channel


@pytest.mark.parametrize("text", ["現金", "credit card", "クレカ", "nanaco charge"])
def test_unknown_channel_is_refused(text):
    with pytest.raises(FieldProblem, match="被害区分"):
        parse_channel(text)


# ---------------------------------------------------------------- names and kana


def test_name_is_kept_as_written_never_nfkc():
    assert parse_name(" ㈱髙橋　①商店 ") == "㈱髙橋 ①商店"
    assert parse_name("山田　　太郎") == "山田 太郎"
    assert parse_name("ﾔﾏﾀﾞ") == "ﾔﾏﾀﾞ"  # half-width stays half-width in the name


@pytest.mark.parametrize(
    "text",
    ["ヤマダ タロウ", "やまだ たろう", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ", " やまだ　　タロウ "],
)
def test_kana_in_any_script_is_stored_as_full_width_katakana(text):
    assert parse_kana(text) == "ヤマダ タロウ"


def test_kana_with_voiced_marks_and_long_vowel():
    assert parse_kana("ｼﾞｮｰｼﾞ") == "ジョージ"
    assert parse_kana("ぱゔぇる") == "パヴェル"
    assert parse_kana("ﾊﾟｰｸ･ｼﾞﾆ") == "パーク・ジニ"


@pytest.mark.parametrize("text", ["山田", "yamada", "ヤマダ1", "ヤマダ,タロウ"])
def test_kana_with_other_characters_is_refused(text):
    with pytest.raises(FieldProblem, match="カタカナ"):
        parse_kana(text)


@given(st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x3096), min_size=1))
def test_any_hiragana_becomes_the_matching_katakana(text):
    result = parse_kana(text)
    assert len(result) == len(text)
    assert all(ord(k) - ord(h) == 0x60 for h, k in zip(text, result, strict=True))


# ---------------------------------------------------------------- phone, e-mail, postal code


@pytest.mark.parametrize(
    ("text", "stored", "digits"),
    [
        ("090-1234-5678", "090-1234-5678", "09012345678"),
        ("09012345678", "09012345678", "09012345678"),
        ("０９０－１２３４－５６７８", "０９０－１２３４－５６７８", "09012345678"),
        ("03-1234-5678", "03-1234-5678", "0312345678"),
        ("03(1234)5678", "03(1234)5678", "0312345678"),
        (" 090 1234　5678 ", "090 1234 5678", "09012345678"),
        ("090ー1234ー5678", "090ー1234ー5678", "09012345678"),
        ("+81 90-1234-5678", "+81 90-1234-5678", "09012345678"),
    ],
)
def test_phone_forms(text, stored, digits):
    phone = parse_phone(text)
    assert phone.text == stored
    assert phone.digits == digits


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9012345678", "先頭の0"),  # Excel read it as a number
        ("090-123-456", "10桁か11桁"),
        ("090-1234-56789", "10桁か11桁"),
        ("090-1234-5678 自宅", "数字とハイフン"),
        ("なし", "数字とハイフン"),
    ],
)
def test_refused_phones(text, reason):
    with pytest.raises(FieldProblem, match=reason):
        parse_phone(text)


def test_email_forms():
    assert parse_email(" taro@example.jp ") == "taro@example.jp"
    assert parse_email("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ") == "taro@example.jp"
    assert parse_email("Taro.Yamada+x@mail.example.co.jp") == "Taro.Yamada+x@mail.example.co.jp"


@pytest.mark.parametrize(
    "text",
    [
        "taro",
        "taro@",
        "@example.jp",
        "taro@example",
        "a@b@c.jp",
        "taro @example.jp",
        "a@x.jp; b@y.jp",
    ],
)
def test_refused_emails(text):
    with pytest.raises(FieldProblem, match="メールアドレス"):
        parse_email(text)


@pytest.mark.parametrize(
    "text",
    [
        "123-4567",
        "1234567",
        "〒123-4567",
        "〒 1234567",
        "１２３－４５６７",
        "〒１２３４５６７",
        "123ー4567",
    ],
)
def test_postal_code_forms(text):
    assert parse_postal_code(text) == "123-4567"


@pytest.mark.parametrize("text", ["123-456", "12345678", "1234-567", "abc-defg", "23456"])
def test_refused_postal_codes(text):
    with pytest.raises(FieldProblem, match="7桁"):
        parse_postal_code(text)


# ---------------------------------------------------------------- small fields


def test_card_last4():
    assert parse_card_last4("1234") == "1234"
    assert parse_card_last4("０１２３") == "0123"
    for text in ("123", "12345", "12a4", "****1234"):
        with pytest.raises(FieldProblem, match="4桁"):
            parse_card_last4(text)


def test_text_fields_are_trimmed_and_ids_kept():
    assert parse_text("  ABC-001\u3000") == "ABC-001"
    assert parse_text("ＡＢＣ") == "ＡＢＣ"  # report_id is text as given
    assert parse_member_id(" ７ｉＤ１２３ ") == "7iD123"
    assert parse_free_text(" 東京都千代田区\r\n丸の内1-1 ") == "東京都千代田区\n丸の内1-1"
    assert parse_free_text("a\rb") == "a\nb"
