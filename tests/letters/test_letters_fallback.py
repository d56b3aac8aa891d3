"""When ReportLab's or qrcode's internals are not what the shortcuts expect, a batch goes
the public way (plain canvas drawing, qrcode's own make, pypdf joining), logs that once,
and prints the same letters: same text, same QR payloads, same pages, same look."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from letters_helpers import SAMPLES, numbered, rasterise
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas
from test_letters_visual import DPI, MAX_CHANGED, MAX_MEAN, PAGES, REFERENCE, difference

from app.letters import LetterSettings, ink, pdfconcat, qr, render_letters, shortcuts
from app.letters.shortcuts import ALL, Shortcuts

KINDS = ("guidance", "deficiency", "payment_notice")


@pytest.fixture(autouse=True)
def _fresh_caches():
    """What the shortcuts remember per process was made with the libraries as they were
    (a test that changes them starts and ends without it)."""
    for cache in (qr._shape, ink._number):
        cache.cache_clear()
    yield
    for cache in (qr._shape, ink._number):
        cache.cache_clear()


# Each way a library upgrade could change what a shortcut leans on: an internal gone, or
# still there but giving something else.
def _ink_internal_gone(mp):
    mp.delattr(Canvas, "addLiteral")


def _ink_number_format_changed(mp):
    mp.setattr("app.letters.ink.fp_str", lambda *values: "0")


def _qr_internal_gone(mp):
    mp.setattr(qr, "util", types.SimpleNamespace())  # no create_data


def _qr_placement_changed(mp):
    mp.setattr(qr, "_placement", lambda size, data: tuple(sorted(data)))


def _concat_layout_changed(mp):
    mp.setattr(pdfconcat, "_XREF", re.compile(rb"(?!)"))  # "no xref table"


def _concat_font_names_changed(mp):
    mp.setattr(pdfconcat, "_SUBSET_TAG", re.compile(rb"(?!)"))  # tags no longer retagged


BREAKS = {
    "ink": (_ink_internal_gone, _ink_number_format_changed),
    "qr": (_qr_internal_gone, _qr_placement_changed),
    "concat": (_concat_layout_changed, _concat_font_names_changed),
}


def break_all(mp) -> None:
    for first, _ in BREAKS.values():
        first(mp)


def test_the_shortcuts_pass_their_self_checks_on_the_pinned_libraries(caplog):
    with caplog.at_level(logging.WARNING, logger="app.letters"):
        assert shortcuts.check() == ALL
    assert caplog.records == []


@pytest.mark.parametrize(("name", "index"), [(n, i) for n in BREAKS for i in (0, 1)])
def test_a_changed_internal_turns_off_its_shortcut_only(monkeypatch, caplog, name, index):
    BREAKS[name][index](monkeypatch)
    with caplog.at_level(logging.WARNING, logger="app.letters"):
        found = shortcuts.check()
    assert found == Shortcuts(**{n: n != name for n in BREAKS})
    (record,) = caplog.records
    assert name in record.getMessage() and "public way" in record.getMessage()


def _batch(out: Path, **kwargs):
    letters = [numbered(SAMPLES[kind], n) for n, kind in enumerate(KINDS * 2, 1)]
    return letters, render_letters(letters, out, settings=LetterSettings(chunk_letters=2),
                                   **kwargs)


def _pdftotext(pdf: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("poppler-utils (pdftotext) is not installed")
    done = subprocess.run([tool, "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True)
    return done.stdout


def _qr_payloads(pdf: Path, folder: Path) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp")
    pages = len(PdfReader(pdf).pages)
    found = []
    for png in rasterise(pdf, folder / "qr", dpi=150, first=1, last=pages):
        found += [barcode.text for barcode in zxingcpp.read_barcodes(Image.open(png))]
    return found


def test_forced_fallback_prints_the_same_letters(tmp_path, monkeypatch, caplog):
    fast_dir, plain_dir = tmp_path / "fast", tmp_path / "plain"
    fast_dir.mkdir()
    plain_dir.mkdir()
    letters, fast = _batch(fast_dir / "batch.pdf")
    break_all(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="app.letters"):
        _, plain = _batch(plain_dir / "batch.pdf")
    monkeypatch.undo()  # the comparison below reads with the libraries as they are
    (record,) = caplog.records  # one batch, logged once, naming what it went without
    assert all(name in record.getMessage() for name in BREAKS)
    assert fast.total_pages == plain.total_pages and not fast.refused and not plain.refused
    assert [(r.case_number, r.first_page, r.pages) for r in fast.rendered] == [
        (r.case_number, r.first_page, r.pages) for r in plain.rendered]
    fast_pdf, plain_pdf = PdfReader(fast.out, strict=True), PdfReader(plain.out, strict=True)
    assert len(fast_pdf.pages) == len(plain_pdf.pages) == fast.total_pages
    assert [p.extract_text() for p in fast_pdf.pages] == [
        p.extract_text() for p in plain_pdf.pages]
    assert _pdftotext(fast.out) == _pdftotext(plain.out)
    # pypdf's join keeps each chunk's font subsets apart by name, as the byte-level one does
    assert len(pdfconcat._font_names(plain_pdf.pages)) == len(
        pdfconcat._font_names(fast_pdf.pages))
    guidance_cases = [lt.case_number for lt in letters if lt.kind.value == "guidance"]
    assert _qr_payloads(fast.out, fast_dir) == guidance_cases
    assert _qr_payloads(plain.out, plain_dir) == guidance_cases
    fast_pngs = rasterise(fast.out, fast_dir / "page", dpi=DPI, first=1, last=fast.total_pages)
    plain_pngs = rasterise(plain.out, plain_dir / "page", dpi=DPI, first=1, last=fast.total_pages)
    for a, b in zip(fast_pngs, plain_pngs, strict=True):
        assert difference(Image.open(a), Image.open(b)) == (0.0, 0.0), a.name


def test_forced_fallback_one_file_per_letter_is_the_same(tmp_path, monkeypatch, caplog):
    fast_dir, plain_dir = tmp_path / "fast", tmp_path / "plain"
    _, fast = _batch(tmp_path / "unused.pdf", per_case_dir=fast_dir)
    break_all(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="app.letters"):
        _, plain = _batch(tmp_path / "unused.pdf", per_case_dir=plain_dir)
    monkeypatch.undo()
    assert len(caplog.records) == 1
    assert [f.name for f in fast.files] == [f.name for f in plain.files]
    for a, b in zip(fast.files, plain.files, strict=True):
        assert _pdftotext(a) == _pdftotext(b)
        assert len(PdfReader(a).pages) == len(PdfReader(b).pages)


def test_the_fallback_log_holds_no_personal_data(tmp_path, monkeypatch, caplog):
    break_all(monkeypatch)
    with caplog.at_level(logging.DEBUG, logger="app.letters"):
        letters, _ = _batch(tmp_path / "batch.pdf")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "public way" in text
    for letter in letters:
        r = letter.recipient
        for private in (r.name, r.address, r.building, r.postal_code, letter.case_number,
                        letter.letter_code):
            assert private not in text


@pytest.mark.parametrize(("kind", "page"), PAGES)
def test_forced_fallback_matches_the_visual_references(tmp_path, monkeypatch, kind, page):
    break_all(monkeypatch)
    out = tmp_path / f"{kind}.pdf"
    render_letters([SAMPLES[kind]()], out)
    monkeypatch.undo()
    (png,) = rasterise(out, tmp_path / "page", dpi=DPI, first=page, last=page)
    changed, mean = difference(Image.open(png), Image.open(REFERENCE / f"{kind}-p{page}.png"))
    assert changed <= MAX_CHANGED and mean <= MAX_MEAN


def test_a_chunk_the_join_does_not_expect_is_joined_with_pypdf(tmp_path, monkeypatch,
                                                                 caplog):
    """The self-check passed, yet a chunk is not as the byte-level join expects."""
    original = pdfconcat.concatenate

    def unexpected(parts, out, **kwargs):
        parts = list(parts)
        if "hosho-letters-check-" in str(parts[0]):  # the self-check's own samples pass
            return original(parts, out, **kwargs)
        out.write(b"%PDF-1.4 half written")
        raise pdfconcat.UnexpectedPDF("no xref table where startxref points")

    monkeypatch.setattr(pdfconcat, "concatenate", unexpected)
    with caplog.at_level(logging.WARNING, logger="app.letters"):
        _, result = _batch(tmp_path / "batch.pdf")
    assert len(PdfReader(result.out, strict=True).pages) == result.total_pages
    assert any("pypdf" in record.getMessage() for record in caplog.records)
    assert [p.name for p in tmp_path.iterdir()] == ["batch.pdf"]  # no chunk left behind


def test_the_self_checks_hold_under_python_dash_o(tmp_path):
    """Python -O drops assert statements: the checks must not be made of them."""
    script = ("from app.letters import qr, shortcuts\n"
              "qr._placement = lambda size, data: tuple(sorted(data))\n"
              "print(shortcuts.check().qr)\n")
    done = subprocess.run([sys.executable, "-O", "-c", script], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parents[2])
    assert done.stdout.strip() == "False"
