from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.era import format_era_date, from_era
from app.domain.case_number import format_case_number, parse_case_number
from app.domain.text import mask_tail, phone_digits, search_key


@pytest.mark.parametrize("spelling", ["すずき たろう", "スズキ　タロウ", "ｽｽﾞｷﾀﾛｳ", "スズキタロウ"])
def test_kana_in_any_script_and_width_folds_to_one_key(spelling):
    assert search_key(spelling) == "すずきたろう"


def test_search_key_keeps_kanji_and_drops_spaces():
    assert search_key("山田　太郎") == search_key("山田 太郎") == "山田太郎"


@pytest.mark.parametrize("raw", ["090-1234-5678", "０９０－１２３４－５６７８", "09012345678",
                                 "+81 90 1234 5678", "(090)1234-5678"])
def test_phone_digits_in_any_format(raw):
    assert phone_digits(raw) == "09012345678"


def test_mask_tail_shows_only_the_end():
    assert mask_tail("09012345678") == "*******5678"
    assert mask_tail("123") == "***"


@given(st.integers(1, 9_999_999))
def test_case_numbers_round_trip_and_catch_typos(n):
    number = format_case_number(n)
    assert parse_case_number(number) == number
    assert parse_case_number(number.replace("-", "").lower()) == number
    body = number[2:9]
    wrong = f"H-{body}-{(int(number[-1]) + 1) % 10}"
    assert parse_case_number(wrong) is None


def test_case_number_read_with_full_width_digits():
    assert parse_case_number("Ｈ－０００００１２－" + format_case_number(12)[-1].translate(
        str.maketrans("0123456789", "０１２３４５６７８９"))) == format_case_number(12)


@pytest.mark.parametrize(("day", "text"), [
    (date(2019, 4, 30), "平成31年4月30日"),
    (date(2019, 5, 1), "令和元年5月1日"),
    (date(2019, 8, 19), "令和元年8月19日"),
    (date(2020, 1, 1), "令和2年1月1日"),
    (date(1989, 1, 7), "昭和64年1月7日"),
    (date(1989, 1, 8), "平成元年1月8日"),
])
def test_era_dates_at_the_boundaries(day, text):
    assert format_era_date(day) == text


def test_era_dates_outside_their_era_are_refused():
    assert from_era("令和", 1, 5, 1) == date(2019, 5, 1)
    assert from_era("H", 31, 4, 30) == date(2019, 4, 30)
    with pytest.raises(ValueError, match="outside"):
        from_era("令和", 1, 4, 30)
    with pytest.raises(ValueError, match="outside"):
        from_era("平成", 31, 5, 1)
    with pytest.raises(ValueError):
        from_era("令和", 1, 2, 30)
