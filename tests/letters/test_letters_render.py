"""Rendered letters, read back as a recipient (or a postal worker) would read them."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date

import pytest
from letters_helpers import (
    CARD,
    CASE,
    NANACO,
    SAMPLES,
    TOTAL,
    deficiency,
    guidance,
    numbered,
    payment_notice,
    pdf_text,
    rasterise,
)
from pypdf import PdfReader

from app.domain.channels import Channel
from app.letters import (
    BankPayout,
    LetterDataError,
    LetterSettings,
    UnprintableCharacterError,
    find_unprintable,
    qr_matrix,
    render_alignment_sheet,
    render_letter,
    render_letters,
)

ERA = LetterSettings(date_style="era")


def render_one(letter, tmp_path, settings=None):
    out = tmp_path / f"{letter.kind}.pdf"
    result = render_letters([letter], out, settings=settings)
    assert not result.refused, result.refused
    return out, result


# --- what each letter says ---------------------------------------------------------

def test_guidance_letter_content(tmp_path):
    out, result = render_one(guidance(), tmp_path)
    first = pdf_text(out, slice(0, 1))
    for expected in ("〒102-0084", "東京都千代田区二番町8番地8", "山田太郎様", CASE,
                     "補償手続きのご案内", "お詫び", "2019年8月19日", "2019年7月3日",
                     "クレジットカードチャージ", "30,000円", "20,000円", "38,565,473円",
                     f"{TOTAL:,}円", "G7K2-QX9P", "0120-192-044", "2019年9月30日まで"):
        assert expected in first, expected
    # the apology opens the letter: it comes right after the title
    assert first.index("補償手続きのご案内") < first.index("お詫び") < first.index("確認された被害")
    # the contact number and the warning against fraud
    assert "必ずこの書面に記載の番号（0120-192-044）から発信" in first
    assert "パスワード" in first
    assert result.rendered[0].pages == 2


def test_guidance_page_two_is_the_prefilled_claim_form(tmp_path):
    out, _ = render_one(guidance(), tmp_path)
    form = pdf_text(out, slice(1, 2))
    for expected in ("補償申請書", CASE, "山田太郎", "3件", f"{TOTAL:,}円", "ご署名（自署）",
                     "記入日", "チャージに使われたクレジットカード", "カード番号（下4桁）",
                     "請求確定日", "お支払日", "2/2"):
        assert expected in form, expected
    assert "振込先口座" not in form


@pytest.mark.parametrize(("channel", "payout", "paragraph", "form_section"), [
    (Channel.CREDIT_CHARGE, None, "カード会社へ当該チャージの取消を依頼", "カード会社名"),
    (Channel.CREDIT_CHARGE, BankPayout("", "", "", ""), "すでにご請求済み", "口座番号"),
    (Channel.DEBIT_CHARGE, None, "デビットカードからのチャージ", "口座名義（カナ）"),
    (Channel.NANACO_CHARGE, None, "ポイントを再付与", "nanaco番号（16桁）"),
    (Channel.UNAUTHORIZED_USE, None, "第三者による不正利用", "金融機関名"),
])
def test_guidance_next_steps_and_form_fit_the_channel(tmp_path, channel, payout, paragraph,
                                                       form_section):
    incidents = tuple(replace(i, channel=channel) for i in guidance().incidents)
    letter = guidance(channel=channel, incidents=incidents, payout=payout)
    out, _ = render_one(letter, tmp_path)
    assert paragraph in pdf_text(out, slice(0, 1))
    assert form_section in pdf_text(out, slice(1, 2))


def test_credit_card_known_from_the_case_is_prefilled(tmp_path):
    out, _ = render_one(guidance(payout=CARD), tmp_path)
    form = pdf_text(out, slice(1, 2))
    assert "セブンカード・サービス" in form
    assert "4321" in form and "2019年7月15日" in form and "2019年8月10日" in form


def test_deficiency_letter_lists_each_chosen_item(tmp_path):
    letter = deficiency(deficiency_note="ご署名は黒のボールペンでお願いいたします。")
    out, _ = render_one(letter, tmp_path)
    text = pdf_text(out)
    for expected in ("書類不備のご連絡", "山田太郎様", CASE, "D4M8-ZR2T", "2019年9月2日",
                     "「ご署名」欄が空欄", "不鮮明", "通帳またはキャッシュカードの写し",
                     "返信用封筒", "2019年9月30日までにご返送", "黒のボールペン", "お詫び"):
        assert expected in text, expected
    assert "ご記入のnanaco番号" not in text  # an item not chosen


def test_deficiency_unknown_item_code_is_refused(tmp_path):
    result = render_letters([deficiency(deficiency_items=("no_such_item",))],
                            tmp_path / "x.pdf")
    assert result.refused and "no_such_item" in result.refused[0].reason
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize(("payout", "expected"), [
    (None, ("銀行振込", "みずほ銀行", "麹町支店", "普通", "****567")),
    (NANACO, ("nanacoポイントの再付与", "************3456")),  # whitespace is removed
    (CARD, ("クレジットカードのチャージ取消", "セブンカード・サービス", "4321",
            "ご請求は発生しません")),
])
def test_payment_notice_says_amount_date_and_how(tmp_path, payout, expected):
    channel = {None: Channel.DEBIT_CHARGE, NANACO: Channel.NANACO_CHARGE,
               CARD: Channel.CREDIT_CHARGE}[payout]
    letter = payment_notice(channel=channel, **({"payout": payout} if payout else {}))
    out, _ = render_one(letter, tmp_path)
    text = pdf_text(out)
    for item in ("補償完了のお知らせ", f"{TOTAL:,}円", "2019年9月30日", "P9N3-WK5L", *expected):
        assert item in text, item
    assert "1234567" not in text and "1234567890123456" not in text  # never the whole number


def test_payment_notice_without_amount_is_refused_not_blank(tmp_path):
    result = render_letters([payment_notice(paid_amount=None)], tmp_path / "x.pdf")
    assert result.refused[0].field == "paid_amount"


def test_payout_that_the_channel_cannot_use_is_refused():
    with pytest.raises(LetterDataError):
        render_letter(payment_notice(channel=Channel.NANACO_CHARGE))


# --- dates ------------------------------------------------------------------------

def test_era_dates_each_side_of_the_reiwa_boundary(tmp_path):
    incidents = (replace(guidance().incidents[0], occurred_at=date(2019, 4, 30)),
                 replace(guidance().incidents[1], occurred_at=date(2019, 5, 1)))
    out, _ = render_one(guidance(incidents=incidents, issue_date=date(2019, 8, 19)), tmp_path,
                        ERA)
    text = pdf_text(out)
    assert "平成31年4月30日" in text and "令和元年5月1日" in text and "令和元年8月19日" in text
    assert "2019年" not in text
    assert "令和年月日" in pdf_text(out, slice(1, 2))  # the blank date on the claim form


def test_western_dates_by_default(tmp_path):
    out, _ = render_one(guidance(), tmp_path)
    assert "2019年8月19日" in pdf_text(out) and "令和" not in pdf_text(out)


# --- fonts and characters -----------------------------------------------------------

def _fonts(path):
    """(name, subtype, embedded) of every font resource on every page."""
    found = set()
    for page in PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            embedded = bool(descriptor) and any(
                k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found.add((str(font["/BaseFont"]), str(font["/Subtype"]), embedded))
    return found


def test_every_font_is_embedded_truetype_never_cid(tmp_path):
    out = tmp_path / "all.pdf"
    render_letters([f() for f in SAMPLES.values()], out)
    fonts = _fonts(out)
    assert fonts and all(embedded for _, _, embedded in fonts)
    assert {subtype for _, subtype, _ in fonts} == {"/TrueType"}
    assert not any("Heisei" in name or "Helvetica" in name for name, _, _ in fonts)
    if shutil.which("pdffonts"):
        listing = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True,
                                 check=True).stdout.splitlines()[2:]
        assert listing and all(" yes yes yes " in line for line in listing), listing


def test_name_character_missing_from_the_main_font_comes_from_the_fallback(tmp_path):
    assert find_unprintable("𠮷田　花子") == []
    out, _ = render_one(guidance(recipient=replace(guidance().recipient, name="𠮷田　花子")),
                        tmp_path)
    assert "𠮷田花子様" in pdf_text(out, slice(0, 1))  # the text survives, not a box
    fallback = {n for n, _, _ in _fonts(out) if "HoshoFallbackMincho" in n}
    assert fallback  # drawn with the fallback font...
    (tmp_path / "plain").mkdir()
    plain, _ = render_one(guidance(), tmp_path / "plain")
    assert not {n for n, _, _ in _fonts(plain) if "Fallback" in n}  # ...and only when needed


@pytest.mark.parametrize(("bad", "code"), [("\ue000", "U+E000"), ("\U000E0100", "U+E0100"),
                                           ("\u0378", "U+0378")])
def test_unprintable_character_refuses_that_letter_and_the_batch_goes_on(tmp_path, bad, code):
    letters = [numbered(guidance, 1),
               numbered(deficiency, 2, recipient=replace(guidance().recipient,
                                                         name=f"山田{bad}子")),
               numbered(payment_notice, 3)]
    out = tmp_path / "batch.pdf"
    result = render_letters(letters, out)
    assert [r.case_number for r in result.rendered] == [letters[0].case_number,
                                                        letters[2].case_number]
    (refused,) = result.refused
    assert refused.case_number == letters[1].case_number
    assert refused.codepoint == code and refused.character == bad
    assert code in refused.reason and refused.field == "recipient.name"
    text = pdf_text(out)
    assert letters[0].letter_code in text and letters[2].letter_code in text
    assert letters[1].letter_code not in text
    assert result.total_pages == len(PdfReader(out).pages) == 3


def test_single_letter_render_raises_naming_the_character():
    letter = guidance(recipient=replace(guidance().recipient, address="東京都\ue000区"))
    with pytest.raises(UnprintableCharacterError) as caught:
        render_letter(letter)
    assert caught.value.codepoint == "U+E000"
    assert caught.value.field == "recipient.address"
    assert "U+E000" in str(caught.value)


# --- QR code ------------------------------------------------------------------------

def test_qr_code_payload_is_exactly_the_case_number(tmp_path):
    out, _ = render_one(guidance(), tmp_path)
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:  # no decoder: check what is drawn is the matrix of the case number
        (qr,) = _qr_ops(guidance())
        assert qr.rows == qr_matrix(CASE)
        return
    (png,) = rasterise(out, tmp_path / "form", dpi=150, first=2, last=2)
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(png))
               if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert decoded == [CASE]


def _qr_ops(letter):
    from app.letters.compose import LetterRenderer
    from app.letters.layout import QROp

    pages = LetterRenderer().compose(letter)
    return [op for page in pages for op in page if isinstance(op, QROp)]


def test_qr_drawn_is_the_matrix_of_the_case_number():
    (qr,) = _qr_ops(guidance())
    assert qr.rows == qr_matrix(CASE)


# --- window, pages and layout -------------------------------------------------------

def test_recipient_block_sits_inside_the_envelope_window(tmp_path):
    from app.letters.compose import LetterRenderer
    from app.letters.layout import PAGE_H, TextOp

    for settings in (LetterSettings(), LetterSettings(window_x_mm=25, window_y_mm=20)):
        ops = LetterRenderer(settings).compose(guidance())[0]
        mm = 72 / 25.4
        left, right = settings.window_x_mm * mm, (settings.window_x_mm
                                                  + settings.window_width_mm) * mm
        top = PAGE_H - settings.window_y_mm * mm
        bottom = top - settings.window_height_mm * mm
        texts = {"".join(r.text for r in op.runs): op for op in ops if isinstance(op, TextOp)}
        for key in ("〒102-0084", "山田　太郎　様", "東京都千代田区二番町8番地8"):
            op = texts[key]
            assert left < op.x < right and bottom < op.y < top - op.size, key


def test_long_letter_continues_with_page_numbers_per_letter(tmp_path):
    many = tuple(replace(guidance().incidents[0], amount=1000 + n) for n in range(40))
    letters = [numbered(guidance, 1, incidents=many), numbered(payment_notice, 2)]
    out = tmp_path / "long.pdf"
    result = render_letters(letters, out)
    first, second = result.rendered
    assert first.pages >= 3 and second.pages == 1
    assert (first.first_page, second.first_page) == (1, first.pages + 1)
    reader = PdfReader(out)
    assert len(reader.pages) == result.total_pages == first.pages + 1
    for n in range(first.pages):
        assert f"{n + 1}/{first.pages}" in re.sub(r"\s", "", reader.pages[n].extract_text())
    assert "1/1" in re.sub(r"\s", "", reader.pages[-1].extract_text())
    assert "（続き）" in reader.pages[1].extract_text()
    # the claim form is a page of its own, the last of the letter
    assert "補償申請書" in reader.pages[first.pages - 1].extract_text()


def test_alignment_sheet_draws_the_window(tmp_path):
    out = render_alignment_sheet(tmp_path / "align.pdf", settings=LetterSettings())
    text = pdf_text(out)
    assert "位置合わせ" in text and "左20mm" in text and "90×45mm" in text
    assert len(PdfReader(out).pages) == 1


def test_window_setting_must_fit_the_sheet():
    from app.core.errors import ValidationError

    with pytest.raises(ValidationError):
        LetterSettings(window_y_mm=70)
    with pytest.raises(ValidationError):
        LetterSettings(date_style="iso")  # type: ignore[arg-type]


# --- batches -------------------------------------------------------------------------

def test_batch_progress_sha256_and_one_letter_per_new_page(tmp_path):
    letters = [numbered(f, n) for n, f in enumerate(SAMPLES.values(), 1)]
    seen = []
    out = tmp_path / "batch.pdf"
    result = render_letters(letters, out, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert result.out == out and result.files == (out,)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert result.sha256 == digest and all(r.sha256 == digest for r in result.rendered)
    reader = PdfReader(out)
    starts = [r.first_page for r in result.rendered]
    assert starts == [1, 3, 4]
    for record in result.rendered:
        page = reader.pages[record.first_page - 1].extract_text()
        assert record.letter_code in page and "〒102-0084" in page
    assert [p.name for p in tmp_path.iterdir()] == ["batch.pdf"]  # no temporary left


def test_per_case_files(tmp_path):
    letters = [numbered(f, n) for n, f in enumerate(SAMPLES.values(), 1)]
    folder = tmp_path / "cases"
    result = render_letters(letters, tmp_path / "unused.pdf", per_case_dir=folder)
    assert not (tmp_path / "unused.pdf").exists()
    assert result.out == folder and len(result.files) == 3
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in result.files)
    for record in result.rendered:
        assert record.path.parent == folder and record.case_number in record.path.name
        assert hashlib.sha256(record.path.read_bytes()).hexdigest() == record.sha256
        assert record.letter_code in pdf_text(record.path)
    assert result.total_pages == sum(r.pages for r in result.rendered) == 4


@pytest.mark.parametrize("per_case", [False, True])
def test_cancel_leaves_nothing_behind(tmp_path, per_case):
    letters = [numbered(guidance, n) for n in range(1, 6)]
    out = tmp_path / "batch.pdf"
    out.write_bytes(b"previous batch")  # an earlier file must survive untouched
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 3

    folder = tmp_path / "cases" if per_case else None
    result = render_letters(letters, out, per_case_dir=folder, cancel=cancel,
                            settings=LetterSettings(chunk_letters=2))
    assert result.cancelled and not result.rendered and result.out is None
    assert out.read_bytes() == b"previous batch"
    assert sorted(p.name for p in tmp_path.iterdir()) == (["batch.pdf", "cases"] if per_case
                                                          else ["batch.pdf"])
    if per_case:
        assert list(folder.iterdir()) == []


def test_error_midway_leaves_nothing_at_out(tmp_path, monkeypatch):
    from app.letters import compose as render

    letters = [numbered(guidance, n) for n in range(1, 5)]
    original = render.LetterRenderer.draw
    count = []

    def failing_draw(self, canvas, pages, letter):
        count.append(1)
        if len(count) == 3:
            raise OSError("disk full")
        return original(self, canvas, pages, letter)

    monkeypatch.setattr(render.LetterRenderer, "draw", failing_draw)
    with pytest.raises(OSError):
        render_letters(letters, tmp_path / "batch.pdf", settings=LetterSettings(chunk_letters=2))
    assert list(tmp_path.iterdir()) == []


def test_chunked_batch_is_one_pdf_in_order(tmp_path):
    letters = [numbered(f, n) for n, f in enumerate(list(SAMPLES.values()) * 3, 1)]
    out = tmp_path / "chunked.pdf"
    result = render_letters(letters, out, settings=LetterSettings(chunk_letters=2))
    reader = PdfReader(out)
    assert len(reader.pages) == result.total_pages == 12
    for record in result.rendered:
        page = reader.pages[record.first_page - 1].extract_text()
        assert record.letter_code in page and record.case_number in page
    fonts = _fonts(out)
    assert all(embedded for _, _, embedded in fonts)
    # subsets from different chunks never share a name
    names = [n for n, _, _ in fonts]
    assert len(names) == len(set(names))
    if shutil.which("pdftotext"):
        subprocess.run(["pdftotext", str(out), str(tmp_path / "t.txt")], check=True)
        assert "補償完了のお知らせ" in (tmp_path / "t.txt").read_text(encoding="utf-8")


def test_nothing_printable_writes_nothing(tmp_path):
    bad = guidance(recipient=replace(guidance().recipient, name="\ue000"))
    result = render_letters([bad], tmp_path / "x.pdf")
    assert result.out is None and len(result.refused) == 1
    assert list(tmp_path.iterdir()) == []


def test_plain_strings_from_the_database_are_accepted(tmp_path):
    letter = guidance(kind="guidance", channel="debit_charge",
                      incidents=[replace(i, channel="debit_charge") for i in guidance().incidents])
    out, _ = render_one(letter, tmp_path)
    assert "デビットカードからのチャージ" in pdf_text(out)
    bad = render_letters([guidance(kind="reminder")], tmp_path / "bad.pdf")
    assert bad.refused[0].field == "kind"
