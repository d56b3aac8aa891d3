"""Japanese line breaking: what a reader would notice at the start and end of lines."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.letters.fonts import MINCHO, font_book
from app.letters.kinsoku import atoms, break_lines, violations

SIZE = 10.0
BOOK = font_book()


def width(text: str) -> float:
    return BOOK.width(text, MINCHO, SIZE)


def chars(n: int) -> float:
    """The width of n full-width characters."""
    return n * SIZE


def test_measures_with_the_real_font():
    assert width("あ") == SIZE  # full width
    assert 0 < width("1") < SIZE  # proportional digits are narrower
    assert width("𠮷") == SIZE  # measured with the fallback font that draws it


def test_reportlab_style_wrap_would_break_these_but_we_do_not():
    # Each line is 10 characters wide; every forbidden character lands on a line start.
    text = ("あいうえおかきくけこ、さしすせそたちつてと」"
            "なにぬねのはひふへほ！まみむめもやゆよらり？")
    lines = [line.text for line in break_lines(text, chars(10), width)]
    assert not violations(lines)
    assert "".join(lines) == text


def test_every_line_start_class_is_pushed_or_hung():
    for mark in "、。，．」』）】〕！？：；〜ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ":
        text = "あ" * 10 + mark + "い" * 5
        lines = [line.text for line in break_lines(text, chars(10), width)]
        assert not lines[1].startswith(mark), (mark, lines)
        assert "".join(lines) == text


def test_punctuation_hangs_rather_than_starting_a_line():
    lines = break_lines("あ" * 10 + "。" + "い" * 3, chars(10), width)
    assert lines[0].text == "あ" * 10 + "。"
    assert lines[0].hanging == SIZE


def test_closing_bracket_after_a_full_stop_pulls_a_character_down():
    lines = [ln.text for ln in break_lines("あ" * 10 + "。」" + "い" * 3, chars(10), width)]
    assert lines[1].startswith("あ。」")
    assert not violations(lines)


def test_no_line_ends_with_an_opening_bracket():
    for bracket in "「『（【〔":
        text = "あ" * 9 + bracket + "かぎ" + "い" * 12
        lines = [ln.text for ln in break_lines(text, chars(10), width)]
        assert not lines[0].endswith(bracket), lines
        assert lines[1].startswith(bracket)


def test_protected_tokens_are_never_split():
    tokens = ["H-0001234-4", "38,615,473円", "2019年8月19日", "令和元年8月19日",
              "0120-192-044", "****567", "G7K2-QX9P", "〒102-0084"]
    for token in tokens:
        for before in range(1, 12):
            text = "あ" * before + token + "い" * 8
            lines = [ln.text for ln in break_lines(text, chars(12), width)]
            assert any(token in line for line in lines), (token, before, lines)


def test_extra_protected_strings_such_as_a_name():
    text = "あ" * 8 + "山田　太郎様" + "い" * 8
    plain = [ln.text for ln in break_lines(text, chars(10), width)]
    assert not any("山田　太郎" in line for line in plain)  # splits without protection
    kept = [ln.text for ln in break_lines(text, chars(10), width, protect=["山田　太郎"])]
    assert any("山田　太郎" in line for line in kept)


def test_atoms_keep_tokens_and_leaders_whole():
    assert atoms("合計38,615,473円です……はい") == ["合", "計", "38,615,473円", "で", "す",
                                                  "……", "は", "い"]


def test_lines_fit_and_short_last_lines_are_avoided():
    text = ("このたびの被害につきまして、下記のとおり補償の手続きが完了いたしましたので、"
            "お知らせいたします。")
    lines = break_lines(text, chars(23), width)
    assert all(ln.width - ln.hanging <= chars(23) + 0.01 for ln in lines)
    assert len(lines[-1].text) > 2  # no "す。" alone on the last line
    assert lines[-1].last and not lines[0].last


def test_first_line_indent_narrows_the_first_line():
    lines = break_lines("あ" * 25, chars(10), width, first_indent=SIZE)
    assert [len(ln.text) for ln in lines] == [9, 10, 6]


JAPANESE = st.sampled_from(
    list("あいうえおかきくけこ漢字仮名補償申請書") + list("、。」』）！？ーっゃ「『（")
    + ["H-0001234-4", "38,615,473円", "2019年8月19日", "nanaco", "0120-192-044"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(JAPANESE, min_size=1, max_size=80), st.integers(min_value=8, max_value=30))
def test_random_japanese_never_breaks_the_rules(pieces, columns):
    text = "".join(pieces)
    lines = [ln.text for ln in break_lines(text, chars(columns), width)]
    assert "".join(lines) == text
    assert not violations(lines)
