"""Wording files: a broken file is refused when loaded, naming file, key and placeholder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.letters import LetterDataError, WordingError, deficiency_checklist, load_wording
from app.letters.wording import SCHEMA, wording_dir


@pytest.fixture
def wording_copy(tmp_path) -> Path:
    target = tmp_path / "letters"
    shutil.copytree(wording_dir(), target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_bundled_wording_loads_and_covers_the_schema():
    wording = load_wording()
    for file, keys in SCHEMA.items():
        assert set(wording.texts[file]) == set(keys)
    assert wording.raw("guidance", "title") == "補償手続きのご案内"
    assert wording.raw("deficiency", "title") == "書類不備のご連絡"
    assert wording.raw("payment_notice", "title") == "補償完了のお知らせ"


def test_checklist_has_codes_and_japanese_labels():
    items = deficiency_checklist()
    codes = [i.code for i in items]
    assert len(codes) == len(set(codes)) >= 10
    assert {"signature_missing", "id_copy_missing", "bank_details_invalid",
            "nanaco_number_missing", "billing_dates_missing"} <= set(codes)
    signature = next(i for i in items if i.code == "signature_missing")
    assert "署名" in signature.label and signature.action


def test_unknown_placeholder_is_an_error_naming_file_key_and_placeholder(wording_copy):
    edit(wording_copy / "guidance.toml", "{incident_count}件、", "{incident_total}件、")
    with pytest.raises(WordingError) as caught:
        load_wording(wording_copy)
    error = caught.value
    assert error.file.name == "guidance.toml"
    assert error.key == "damage.summary"
    assert error.placeholder == "incident_total"
    assert "guidance.toml" in str(error) and "{incident_total}" in str(error)


def test_missing_required_placeholder_is_an_error(wording_copy):
    edit(wording_copy / "common.toml", "この書面の文書番号は {letter_code} です。",
         "この書面の文書番号は記載のとおりです。")
    with pytest.raises(WordingError) as caught:
        load_wording(wording_copy)
    assert caught.value.key == "security.letter_code"
    assert caught.value.placeholder == "letter_code"
    assert "common.toml" in str(caught.value)


def test_placeholder_of_another_section_is_unknown_here(wording_copy):
    # {nanaco_number} is filled only for a nanaco payout: a bank text cannot use it.
    edit(wording_copy / "payment_notice.toml", "上記の口座へ{paid_amount}",
         "上記の口座（{nanaco_number}）へ{paid_amount}")
    with pytest.raises(WordingError) as caught:
        load_wording(wording_copy)
    assert (caught.value.key, caught.value.placeholder) == ("bank.text", "nanaco_number")


def test_missing_key_and_unknown_key(wording_copy):
    path = wording_copy / "deficiency.toml"
    edit(path, 'note_heading = "センターからの補足"\n', "")
    with pytest.raises(WordingError, match="note_heading"):
        load_wording(wording_copy)
    edit(path, 'heading = "不備の内容とお願い"',
         'heading = "不備の内容とお願い"\nnote_headline = "補足"')
    with pytest.raises(WordingError, match="note_headline"):
        load_wording(wording_copy)


def test_bad_braces_and_bad_toml(wording_copy):
    edit(wording_copy / "common.toml", 'end = "以上"', 'end = "以上{"')
    with pytest.raises(WordingError, match=r"labels\.end"):
        load_wording(wording_copy)
    edit(wording_copy / "common.toml", 'end = "以上{"', 'end = "以上')
    with pytest.raises(WordingError, match="TOML"):
        load_wording(wording_copy)


def test_checklist_items_are_checked(wording_copy):
    path = wording_copy / "deficiency.toml"
    edit(path, 'code = "filled_date_missing"', 'code = "signature_missing"')
    with pytest.raises(WordingError, match="signature_missing"):
        load_wording(wording_copy)


def test_wording_character_without_a_font_is_refused(wording_copy):
    edit(wording_copy / "common.toml", 'end = "以上"', 'end = "以上\ue000"')
    with pytest.raises(WordingError, match="U\\+E000"):
        load_wording(wording_copy)


def test_filling_with_an_empty_value_is_refused_never_a_blank():
    wording = load_wording()
    with pytest.raises(LetterDataError, match="reply_by"):
        wording.fill("guidance", "reply.with_deadline", {"reply_by": ""})
    assert "2019年9月30日" in wording.fill("guidance", "reply.with_deadline",
                                         {"reply_by": "2019年9月30日"})


def test_letter_defaults_are_the_programme_settings_defaults():
    from app.domain.settings import Settings
    from app.letters.model import LetterSettings

    assert LetterSettings() == LetterSettings.from_settings(Settings())
    changed = LetterSettings.from_settings(Settings(letter_date_style="era", hotline="0120-1"))
    assert (changed.date_style, changed.hotline) == ("era", "0120-1")


# --- the alignment sheet's wording -------------------------------------------------------

def test_the_alignment_sheet_prints_its_wording_file(wording_copy, tmp_path):
    from letters_helpers import pdf_text

    from app.letters import LetterSettings, render_alignment_sheet

    edit(wording_copy / "alignment.toml", 'title = "封筒の窓 位置合わせ用紙"',
         'title = "窓付き封筒の確認用紙"')
    edit(wording_copy / "alignment.toml", 'name = "見本　太郎"', 'name = "確認　花子"')
    out = render_alignment_sheet(tmp_path / "align.pdf",
                                 settings=LetterSettings(wording_dir=wording_copy,
                                                         window_x_mm=22.5))
    text = pdf_text(out)
    assert "窓付き封筒の確認用紙" in text and "確認花子様" in text
    assert "位置合わせ用紙" not in text and "見本太郎" not in text
    assert "左22.5mm" in text  # the measurements come from the settings


def test_the_alignment_sheet_takes_no_letter_placeholder(wording_copy):
    """The sheet has no recipient or case: {name} there is refused when loading."""
    edit(wording_copy / "alignment.toml", 'ruler = "100 mm', 'ruler = "{name} 100 mm')
    with pytest.raises(WordingError) as caught:
        load_wording(wording_copy)
    assert caught.value.file.name == "alignment.toml"
    assert (caught.value.key, caught.value.placeholder) == ("ruler", "name")


def test_the_alignment_sheet_needs_its_measurements(wording_copy):
    edit(wording_copy / "alignment.toml", "（上から {fold_at} mm）", "")
    with pytest.raises(WordingError) as caught:
        load_wording(wording_copy)
    assert (caught.value.key, caught.value.placeholder) == ("fold", "fold_at")
