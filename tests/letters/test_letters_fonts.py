"""The bundled fonts: the fallback subset has the name characters the main font lacks."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from app.letters.fonts import (
    FALLBACK_FILE,
    GOTHIC_BOLD,
    MINCHO,
    _to_unicode_cmap,
    font_book,
    fonts_dir,
)

TOSHI_YOSHI = "\U00020BB7"  # 𠮷


def test_fallback_font_has_yoshi_which_biz_ud_mincho_lacks():
    ttlib = pytest.importorskip("fontTools.ttLib")
    main = ttlib.TTFont(fonts_dir() / "BIZUDMincho-Regular.ttf", lazy=True).getBestCmap()
    fallback_font = ttlib.TTFont(fonts_dir() / FALLBACK_FILE, lazy=True)
    fallback = fallback_font.getBestCmap()
    assert 0x20BB7 not in main
    assert 0x20BB7 in fallback
    assert "glyf" in fallback_font and "CFF " not in fallback_font  # TrueType: embeddable
    # names the licence allows: not the original font's name (IPA Font License 3.1(4))
    assert "IPA" not in fallback_font["name"].getDebugName(1)
    assert "IPA" not in FALLBACK_FILE
    # it adds characters rather than repeating the main font's
    assert len(set(fallback) & set(main)) < 10


def test_fallback_font_is_small_enough_and_licensed():
    path = fonts_dir() / FALLBACK_FILE
    assert path.stat().st_size < 10 * 1024 * 1024
    licence = (fonts_dir() / "IPA_Font_License.txt").read_text(encoding="utf-8")
    assert "IPA Font License Agreement v1.0" in licence and FALLBACK_FILE in licence


def test_font_choice_per_character():
    book = font_book()
    assert book.font_for("山") == MINCHO
    assert book.font_for(TOSHI_YOSHI) == book.fallback
    assert book.font_for(TOSHI_YOSHI, GOTHIC_BOLD) == book.fallback
    assert book.font_for("\ue000") is None
    assert book.unprintable("山\ue000田\ue000\u0378") == ["\ue000", "\u0378"]
    runs = book.runs(f"{TOSHI_YOSHI}田　花子")
    assert [(r.font, r.text) for r in runs] == [(book.fallback, TOSHI_YOSHI),
                                                 (MINCHO, "田　花子")]


def test_common_name_variants_are_printable():
    book = font_book()
    for name in ("髙橋", "山﨑", "渡邊", "渡邉", "齋藤", "𠮷野", "德永", "曺", "㈱セブン", "①"):
        assert book.unprintable(name) == [], name


def test_supplementary_characters_survive_text_extraction():
    book = font_book()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, initialFontName=MINCHO)
    canvas.setFont(book.fallback, 12)
    canvas.drawString(72, 720, f"{TOSHI_YOSHI}")
    canvas.setFont(MINCHO, 12)
    canvas.drawString(90, 720, "田")
    canvas.save()
    text = PdfReader(io.BytesIO(buffer.getvalue())).pages[0].extract_text()
    assert TOSHI_YOSHI in text and "田" in text


def test_to_unicode_cmap_writes_surrogate_pairs_in_blocks_of_100():
    cmap = _to_unicode_cmap("X", [0, *range(0x4E00, 0x4E00 + 150), 0x20BB7])
    assert "<97> <D842DFB7>" in cmap
    assert "100 beginbfchar" in cmap and "52 beginbfchar" in cmap


def test_the_original_font_can_replace_the_subset(tmp_path):
    # IPA Font License 3.1(2): LetterSettings.fallback_font points at another file.
    import shutil

    from letters_helpers import RECIPIENT, guidance

    from app.letters import LetterSettings, render_letter

    copy = tmp_path / "replacement.ttf"
    shutil.copy(fonts_dir() / FALLBACK_FILE, copy)
    book = font_book(copy)
    assert book.fallback != font_book().fallback
    assert book.font_for(TOSHI_YOSHI) == book.fallback
    letter = guidance(recipient=RECIPIENT.__class__("𠮷田　花子", "1020084", "東京都千代田区"))
    text = PdfReader(io.BytesIO(render_letter(letter, settings=LetterSettings(
        fallback_font=copy)))).pages[0].extract_text()
    assert "𠮷田" in text
