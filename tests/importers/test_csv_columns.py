"""Matching header cells to fields, and the operator's column mapping."""

from __future__ import annotations

import pytest

from app.importers.columns import (
    FIELDS,
    IGNORE,
    LABELS_JA,
    REQUIRED_FIELDS,
    MappingError,
    header_key,
    match_columns,
)
from app.importers.incident_csv import FileRefused, preview, read_incidents

ALIASES = {
    "report_id": ["受付番号", "受付ID", "報告番号", "report_id", "report no", "report number"],
    "member_id": ["7iD", "会員ID", "7iD会員ID", "member_id", "7id"],
    "name": ["氏名", "お名前", "名前", "name", "full name"],
    "name_kana": ["フリガナ", "ふりがな", "氏名カナ", "カナ", "kana", "name kana"],
    "phone": ["電話番号", "連絡先電話番号", "TEL", "phone", "tel"],
    "email": ["メールアドレス", "メール", "email", "e-mail"],
    "postal_code": ["郵便番号", "〒", "postal code", "zip"],
    "address": ["住所", "address"],
    "channel": ["被害区分", "区分", "チャネル", "channel"],
    "occurred_at": ["発生日時", "発生日", "取引日時", "occurred at", "date"],
    "amount": ["被害金額", "金額", "amount"],
    "card_issuer": ["カード会社", "card issuer"],
    "card_last4": ["カード下4桁", "card last4"],
    "contact_received_at": ["連絡先受領日", "連絡受付日", "contact received at"],
    "merchant": ["利用店舗", "店舗", "merchant"],
    "note": ["備考", "note"],
}


def test_every_field_has_its_headers_and_a_japanese_label():
    assert set(ALIASES) == set(FIELDS) == set(LABELS_JA)
    assert set(REQUIRED_FIELDS) <= set(FIELDS)


@pytest.mark.parametrize(
    ("text", "name"), [(text, name) for name, texts in ALIASES.items() for text in texts]
)
def test_every_listed_header_is_recognised(text, name):
    assert match_columns([text]).by_index == {0: name}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (" 受付番号 ", "report_id"),
        ("ＲＥＰＯＲＴ　ＩＤ", "report_id"),
        ("Report No", "report_id"),
        ("REPORT_NUMBER", "report_id"),
        ("７ｉＤ", "member_id"),
        ("ﾌﾘｶﾞﾅ", "name_kana"),
        ("ＴＥＬ", "phone"),
        ("E-Mail", "email"),
        ("Card_Last4", "card_last4"),
        ("カード下４桁", "card_last4"),
        ("Occurred_At", "occurred_at"),
    ],
)
def test_headers_are_matched_after_trimming_nfkc_and_case_folding(text, name):
    assert match_columns([text]).by_index == {0: name}


def test_header_key_folds_width_case_and_separators():
    assert header_key("  Report__ID ") == header_key("report id") == "report id"


def test_column_order_is_free_and_unknown_columns_are_listed():
    header = ["金額", "謎の列", "氏名", "", "発生日", "区分", "受付番号", "メール", "謎の列"]
    match = match_columns(header)
    assert match.columns == {
        "金額": "amount",
        "氏名": "name",
        "発生日": "occurred_at",
        "区分": "channel",
        "受付番号": "report_id",
        "メール": "email",
    }
    assert match.unknown == ["謎の列"]  # listed once; an empty header cell is not listed
    assert match.missing == []
    match.require_usable()


def test_missing_required_columns_refuse_the_file_naming_them():
    match = match_columns(["受付番号", "氏名", "電話番号"])
    assert match.missing == ["channel", "occurred_at", "amount"]
    with pytest.raises(FileRefused) as caught:
        match.require_usable()
    ja, en = caught.value.ja, caught.value.en
    assert (
        "被害区分（channel）" in ja
        and "発生日時（occurred_at）" in ja
        and "被害金額（amount）" in ja
    )
    assert "channel, occurred_at, amount" in en
    assert "--map" in ja and "--map" in en  # what to do


def test_a_file_without_phone_or_email_columns_is_refused():
    match = match_columns(["受付番号", "氏名", "区分", "発生日", "金額"])
    assert match.missing_contact
    with pytest.raises(FileRefused, match="電話番号かメールアドレスの列"):
        match.require_usable()
    assert not match_columns(
        ["受付番号", "氏名", "区分", "発生日", "金額", "メール"]
    ).missing_contact


def test_a_tab_file_named_csv_gets_a_hint():
    with pytest.raises(FileRefused) as caught:
        match_columns(["受付番号\t氏名\t区分"]).require_usable()
    assert ".tsv" in caught.value.ja


def test_two_columns_for_one_field_are_refused_unless_mapped():
    header = ["受付番号", "氏名", "名前", "電話番号", "区分", "発生日", "金額"]
    match = match_columns(header)
    assert match.clashes == {"name": ["氏名", "名前"]}
    with pytest.raises(FileRefused, match="複数の列"):
        match.require_usable()
    settled = match_columns(header, {"名前": IGNORE})
    assert settled.clashes == {}
    assert settled.columns["氏名"] == "name"
    assert "名前" not in settled.columns and "名前" not in settled.unknown
    settled.require_usable()


def test_a_mapping_overrides_and_extends_the_automatic_matching():
    header = ["No.", "お客様名", "氏名", "TEL", "種別", "日付", "金額"]
    mapping = {"No.": "report_id", "お客様名": "name", "種別": "channel", "日付": "occurred_at"}
    match = match_columns(header, mapping)
    assert match.columns == {
        "No.": "report_id",
        "お客様名": "name",
        "TEL": "phone",
        "種別": "channel",
        "日付": "occurred_at",
        "金額": "amount",
    }
    # The column the operator displaced is no longer used, and is listed as unknown.
    assert match.unknown == ["氏名"]
    match.require_usable()


def test_mapping_keys_match_like_headers_and_field_names_are_case_free():
    match = match_columns(["ＮＯ．", "X"], {" no. ": "Report_ID", "x": " amount "})
    assert match.by_index == {0: "report_id", 1: "amount"}


def test_a_mapping_can_move_a_recognised_header_to_another_field():
    match = match_columns(
        ["日付", "発生日"], {"発生日": "contact_received_at", "日付": "occurred_at"}
    )
    assert match.columns == {"日付": "occurred_at", "発生日": "contact_received_at"}


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"受付番号": "reportid"}, "reportid"),
        ({"受付番号": "受付番号"}, "項目はありません"),
        ({"存在しない列": "note"}, "見出しにありません"),
        ({"受付番号": "note", "氏名": "note"}, "2つの列"),
    ],
)
def test_bad_mappings_are_errors(mapping, message):
    with pytest.raises(MappingError, match=message) as caught:
        match_columns(["受付番号", "氏名"], mapping)
    assert caught.value.en


def test_read_and_preview_take_the_mapping(write, now):
    path = write("No,お客様名,TEL,種別,日付,金額\nA1,山田,0312345678,credit,2019/7/3,1000")
    with pytest.raises(FileRefused):
        read_incidents(path, now=now)
    mapping = {"No": "report_id", "お客様名": "name", "種別": "channel", "日付": "occurred_at"}
    incidents = read_incidents(path, now=now, mapping=mapping)
    (row,) = list(incidents)
    assert row.ok and row.record.report_id == "A1" and row.record.name == "山田"
    shown = preview(path, mapping=mapping)
    assert shown.usable and shown.columns["No"] == "report_id"
    unmapped = preview(path)
    assert not unmapped.usable
    assert unmapped.missing == ["report_id", "name", "channel", "occurred_at"]
    with pytest.raises(MappingError):
        read_incidents(path, now=now, mapping={"No": "nonsense"})
