"""The batch's shortcuts (remembered line breaks, font runs and drawing, the faster QR
mask choice, byte-level chunk concatenation) give exactly what the long way gives."""

from __future__ import annotations

import io
import random
import re
from dataclasses import replace

import pytest
import qrcode
from hypothesis import given, settings
from hypothesis import strategies as st
from letters_helpers import SAMPLES, guidance, numbered
from pypdf import PdfReader
from qrcode import util
from qrcode.constants import ERROR_CORRECT_M

from app.domain.case_number import format_case_number
from app.letters import UnprintableCharacterError, load_wording, render_letters
from app.letters.compose import LetterRenderer
from app.letters.fonts import GOTHIC, MINCHO, font_book
from app.letters.ink import Ink
from app.letters.kinsoku import _PROTECTED, _chars, atoms, break_lines
from app.letters.layout import CONTENT_W, LineBreaker
from app.letters.pdfconcat import concatenate
from app.letters.qr import _shape, qr_matrix

BOOK = font_book()


# --- QR codes -----------------------------------------------------------------------

def _qrcode_own(payload: str):
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=0)
    code.add_data(payload)
    code.make(fit=True)
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


def test_qr_matrix_is_exactly_qrcodes_symbol():
    rng = random.Random(7)
    payloads = [format_case_number(n) for n in range(1, 9_999_999, 24_989)]
    # longer payloads reach versions 7 and up, which carry version information
    payloads += ["".join(rng.choice("AZ09-あ漢 ") for _ in range(length))
                 for length in range(1, 300, 7)]
    for payload in payloads:
        assert qr_matrix(payload) == _qrcode_own(payload), payload


def test_mask_penalty_is_qrcodes_lost_point():
    rng = random.Random(11)
    for version in (1, 2, 7):
        shape = _shape(version)
        size, stride = shape.size, shape.size + 1
        for _ in range(60):
            dark = rng.choice((0.2, 0.5, 0.8))
            modules = [[rng.random() < dark for _ in range(size)] for _ in range(size)]
            rows = sum(1 << (r * stride + c) for r in range(size) for c in range(size)
                       if modules[r][c])
            cols = sum(1 << (c * stride + r) for r in range(size) for c in range(size)
                       if modules[r][c])
            assert shape.penalty(rows, cols) == util.lost_point(modules)


def test_qr_matrices_decode_to_their_case_numbers():
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    for n in (1, 1234, 80_808, 9_999_999):
        number = format_case_number(n)
        rows = qr_matrix(number)
        quiet, scale = 4, 6
        side = (len(rows) + 2 * quiet) * scale
        image = Image.new("L", (side, side), 255)
        for r, row in enumerate(rows):
            for c, dark in enumerate(row):
                if dark:
                    x, y = (c + quiet) * scale, (r + quiet) * scale
                    image.paste(0, (x, y, x + scale, y + scale))
        assert [b.text for b in zxingcpp.read_barcodes(image)] == [number]


# --- line breaking and font runs ------------------------------------------------------

def _paragraphs() -> list[str]:
    texts = [t for file in load_wording().texts.values() for t in file.values()]
    return [part for text in texts for part in text.split("\n") if part.strip()]


def test_remembered_line_breaks_equal_fresh_ones():
    breaker = LineBreaker(BOOK)
    protect = ("H-0001234-4", "山田　太郎", "0120-192-044")
    for text in [*_paragraphs(), "山田　太郎様の案件番号はH-0001234-4です。" * 3]:
        for font, size, width, indent in ((MINCHO, 10.0, CONTENT_W, 10.0),
                                          (GOTHIC, 9.5, 180.0, 0.0)):
            fresh = break_lines(text, width, lambda s, f=font, z=size: BOOK.width(s, f, z),
                                first_indent=indent, protect=protect)
            for _ in range(2):  # the second answer comes from memory
                assert list(breaker.lines(text, font, size, width, indent, protect)) == fresh


def test_line_breaks_are_shared_only_where_the_protected_strings_agree():
    breaker = LineBreaker(BOOK)
    text = "お名前は山田　太郎様です。" * 6
    plain = breaker.lines(text, MINCHO, 10.0, 100.0, 0.0, ("佐藤　花子",))
    assert plain == breaker.lines(text, MINCHO, 10.0, 100.0, 0.0, ())
    kept = breaker.lines(text, MINCHO, 10.0, 100.0, 0.0, ("山田　太郎",))
    assert [ln.text for ln in kept] == [ln.text for ln in break_lines(
        text, 100.0, lambda s: BOOK.width(s, MINCHO, 10.0), protect=["山田　太郎"])]


def _atoms_by_one_expression(text: str, protect: list[str]) -> list[str]:
    """What atoms() did before: one regular expression compiled per set of strings."""
    extra = sorted({p for p in protect if p}, key=len, reverse=True)
    pattern = _PROTECTED
    if extra:
        pattern = re.compile("|".join(re.escape(p) for p in extra) + "|" + _PROTECTED.pattern)
    pieces, position = [], 0
    for match in pattern.finditer(text):
        pieces += [*_chars(text[position:match.start()]), match.group()]
        position = match.end()
    return pieces + _chars(text[position:])


ALPHABET = "山田太郎H-0123456789,円年月日令和元〒ABCxyz*.@/:…—「」、。 "


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=40), st.lists(st.text(ALPHABET, max_size=7), max_size=4),
       st.data())
def test_atoms_cut_as_one_regular_expression_would(text, protect, data):
    if text:  # strings that occur, as names and numbers do
        start = data.draw(st.integers(0, len(text) - 1))
        protect = [*protect, text[start:start + data.draw(st.integers(1, 8))]]
    assert atoms(text, protect) == _atoms_by_one_expression(text, protect)


def test_remembered_runs_still_name_the_field_of_a_refused_character():
    assert BOOK.runs("山田") == BOOK.runs("山田")
    for field in ("recipient.name", "recipient.address"):  # the second refusal is from memory
        with pytest.raises(UnprintableCharacterError) as caught:
            BOOK.runs("山\ue000田\ue001", MINCHO, field)
        assert caught.value.field == field and caught.value.codepoint == "U+E000"


# --- drawing and concatenation ----------------------------------------------------------

def _letters():
    return [numbered(f, n) for n, f in enumerate(list(SAMPLES.values()) * 3, 1)]


def _drawn(remember: bool) -> bytes:
    renderer = LetterRenderer()
    buffer = io.BytesIO()
    canvas = renderer.new_canvas(buffer)
    renderer._ink = Ink(canvas, remember=remember)
    for letter in _letters():
        renderer.draw(canvas, renderer.compose(letter), letter)
    canvas.save()
    return buffer.getvalue()


def test_remembered_drawing_writes_what_reportlab_writes():
    assert _drawn(remember=True) == _drawn(remember=False)


def _fonts(page) -> dict[str, tuple]:
    found = {}
    for name, font in page["/Resources"]["/Font"].items():
        font = font.get_object()
        embedded = font["/FontDescriptor"]["/FontFile2"].get_object().get_data()
        found[name] = (str(font["/BaseFont"])[8:], embedded, list(font["/Widths"]),
                       font["/ToUnicode"].get_object().get_data())
    return found


def test_chunks_are_copied_page_for_page(tmp_path):
    letters = [*_letters(), guidance(recipient=replace(guidance().recipient, name="𠮷野　太郎"))]
    parts = [tmp_path / "a.pdf", tmp_path / "b.pdf"]
    render_letters(letters[:7], parts[0])
    render_letters(letters[7:], parts[1])
    with (tmp_path / "all.pdf").open("wb") as handle:
        assert concatenate(parts, handle) == 14
    joined = PdfReader(tmp_path / "all.pdf", strict=True)
    originals = [page for part in parts for page in PdfReader(part, strict=True).pages]
    assert len(joined.pages) == len(originals) == 14
    for copy, page in zip(joined.pages, originals, strict=True):
        assert copy.get_contents().get_data() == page.get_contents().get_data()
        assert copy.extract_text() == page.extract_text()
        assert _fonts(copy) == _fonts(page)  # same subsets (under new tags), all embedded
    tags = {str(font.get_object()["/BaseFont"]) for page in joined.pages
            for font in page["/Resources"]["/Font"].values()}
    per_part = [{str(font.get_object()["/BaseFont"]) for page in PdfReader(part).pages
                 for font in page["/Resources"]["/Font"].values()} for part in parts]
    assert len(tags) == sum(len(names) for names in per_part)  # no tag shared across parts


def test_a_justified_line_does_not_widen_the_next_one():
    """Character spacing (Tc) outlives a PDF text object: each justified line resets it,
    or every later line on the page is drawn wider than laid out."""
    from reportlab.pdfgen.canvas import Canvas

    from app.letters.fonts import Run
    from app.letters.ink import draw_op
    from app.letters.layout import TextOp

    font_book()  # registers the bundled fonts
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pageCompression=0)
    draw_op(canvas, TextOp(50, 700, (Run(MINCHO, "両端揃えの行"),), 10.5, char_space=0.8))
    draw_op(canvas, TextOp(50, 680, (Run(MINCHO, "次の行"),), 10.5))
    canvas.showPage()
    canvas.save()
    stream = PdfReader(io.BytesIO(buffer.getvalue())).pages[0].get_contents().get_data()
    spacing = re.findall(rb"(-?[\d.]+) Tc", stream)
    assert spacing == [b".8", b"0"]
    assert stream.index(b"0 Tc") < stream.rindex(b"BT")  # reset before the next line
