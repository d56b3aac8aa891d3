"""The balance-refund programme's letters from the engine: each kind's content, the
application number where a case number would be, the same window, fonts and codes."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from letters_helpers import (
    APPLICATION,
    RECIPIENT,
    REFUND_SAMPLES,
    pdf_text,
    rasterise,
    refund_confirmation,
    refund_payment,
    refund_postal,
    refund_refusal,
)
from PIL import Image
from test_letters_visual import DPI, MAX_CHANGED, MAX_MEAN, REFERENCE, UPDATE, difference

from app.domain.refunds import REFUSAL_REASONS
from app.letters import (
    LetterDataError,
    LetterKind,
    LetterSettings,
    PostalOrderPayout,
    render_letter,
    render_letters,
)
from app.letters.compose import LetterRenderer
from app.letters.kinsoku import violations
from app.letters.layout import PAGE_H, TextOp


def test_kinds_belong_to_the_refund_programme():
    assert [k.programme for k in LetterKind] == ["compensation"] * 3 + ["refund"] * 3
    assert refund_confirmation().reference == APPLICATION


def test_confirmation_content():
    text = pdf_text(render_letter(refund_confirmation()))
    assert "払戻金額確定のお知らせ" in text and "山田太郎様" in text
    assert "申出番号APP-2019-0012345" in text and "案件番号" not in text
    assert "38,615円" in text and "−10,000円" in text and "28,615円" in text
    assert "2019年10月3日" in text and "2019年12月2日" in text
    assert "みずほ銀行" in text and "****567" in text and "1234567" not in text
    assert "補償受付センターまで" not in text  # the refund closing, not compensation's


def test_confirmation_without_a_compensated_part_says_nothing_of_it():
    letter = refund_confirmation(balance=5000, from_charges=0, refund_amount=5000,
                                 payout=PostalOrderPayout())
    text = pdf_text(render_letter(letter))
    assert "補償でご返金済" not in text and "5,000円" in text
    assert "ゆうちょ銀行の払出証書" in text


@pytest.mark.parametrize("code", sorted(REFUSAL_REASONS))
def test_each_refusal_reason_is_worded(code):
    letter = refund_refusal(refusal_reason=code)
    renderer = LetterRenderer()
    reason = renderer.refusal_text(letter)
    text = pdf_text(render_letter(letter))
    assert "".join(reason.split()) in text and "理由" in text
    if code == "account_closed":
        assert "2019年8月20日に7payの退会" in text


def test_payment_notice_by_transfer_and_by_postal_order():
    text = pdf_text(render_letter(refund_payment()))
    assert "残高払戻しのお知らせ" in text and "振込日2019年12月20日" in text
    assert "2019年12月20日に、上記の口座へ28,615円をお振込みいたしました" in text
    postal = pdf_text(render_letter(refund_postal()))
    assert "換金期限2020年6月30日" in postal and "12,800円" in postal
    assert "8001" in postal and "128001" not in postal  # the certificate masked


def test_era_dates(tmp_path):
    text = pdf_text(render_letter(refund_postal(), settings=LetterSettings(date_style="era")))
    assert "令和2年6月30日" in text and "令和元年12月2日" in text


@pytest.mark.parametrize(("letter", "field"), [
    (refund_refusal(refusal_reason="made_up"), "refusal_reason"),
    (refund_refusal(refusal_reason=""), "refusal_reason"),
    (refund_postal(payout=PostalOrderPayout()), "payout"),
    (refund_payment(paid_date=None), "paid_date"),
    (refund_confirmation(refund_amount=30_000), "refund_amount"),
    (refund_confirmation(case_number="H-0001234-4"), "case_number"),
    (refund_confirmation(application_id=""), "application_id"),
])
def test_incomplete_refund_letters_are_refused_not_blank(letter, field):
    with pytest.raises(LetterDataError) as caught:
        render_letter(letter)
    assert caught.value.field == field


def test_one_page_each_inside_the_window_and_kinsoku():
    mm = 72 / 25.4
    for settings in (LetterSettings(), LetterSettings(window_x_mm=25, window_y_mm=20)):
        renderer = LetterRenderer(settings)
        left = settings.window_x_mm * mm
        right = (settings.window_x_mm + settings.window_width_mm) * mm
        top = PAGE_H - settings.window_y_mm * mm
        bottom = top - settings.window_height_mm * mm
        for name, factory in REFUND_SAMPLES.items():
            pages = renderer.compose(factory())
            assert len(pages) == 1, name
            texts = {"".join(r.text for r in op.runs): op for op in pages[0]
                     if isinstance(op, TextOp)}
            for key in ("〒102-0084", "山田　太郎　様", "東京都千代田区二番町8番地8"):
                op = texts[key]
                width = sum(renderer.book.width(r.text, r.font, op.size) for r in op.runs)
                assert left < op.x and op.x + width < right, (name, key)
                assert bottom < op.y < top - op.size, (name, key)
            assert not violations(list(texts)), name


def test_long_address_is_refused_when_it_cannot_fit_the_window():
    long = replace(RECIPIENT, address="東京都千代田区二番町" * 12)
    with pytest.raises(LetterDataError):
        render_letter(refund_confirmation(recipient=long))


def test_batch_of_mixed_refund_letters_one_per_sheet(tmp_path):
    out = tmp_path / "refunds.pdf"
    letters = [f() for f in REFUND_SAMPLES.values()]
    letters = [replace(x, letter_code=f"T{n:05d}", application_id=f"A-{n}")
               for n, x in enumerate(letters, 1)]
    result = render_letters(letters, out)
    assert [r.case_number for r in result.rendered] == ["A-1", "A-2", "A-3", "A-4"]
    assert [r.first_page for r in result.rendered] == [1, 2, 3, 4]
    per = render_letters(letters[:1], out, per_case_dir=tmp_path / "each")
    assert [p.name for p in per.files] == ["A-1_refund_confirmation_T00001.pdf"]


@pytest.mark.parametrize("name", sorted(REFUND_SAMPLES))
def test_page_matches_reference(tmp_path, name):
    out = tmp_path / f"{name}.pdf"
    render_letters([REFUND_SAMPLES[name]()], out)
    (png,) = rasterise(out, tmp_path / "page", dpi=DPI)
    reference = REFERENCE / f"{name}-p1.png"
    if UPDATE:
        shutil.copy(png, reference)
        pytest.skip(f"reference written: {reference}")
    new, old = Image.open(png), Image.open(reference)
    assert new.size == old.size
    changed, mean = difference(new, old)
    if changed > MAX_CHANGED or mean > MAX_MEAN:
        kept = Path(os.environ.get("PYTEST_LETTER_DIFF_DIR", tmp_path)) / f"{name}-p1.png"
        shutil.copy(png, kept)
        pytest.fail(f"{name} differs from {reference.name}: {changed:.2%} changed, "
                    f"mean {mean:.2f}; new page kept at {kept}")


def test_dates_style_does_not_change_the_amounts():
    letter = refund_confirmation(issue_date=date(2019, 4, 30))
    assert "平成31年4月30日" in pdf_text(render_letter(
        letter, settings=LetterSettings(date_style="era")))
