"""The Zengin character rules: what a transfer file can carry, and the Japan Post
Bank 記号・番号 conversion."""

from __future__ import annotations

import pytest

from app.core.errors import ValidationError
from app.domain.channels import Channel, PayoutKind
from app.domain.payout import PayoutDetails, japan_post_bank, normalise
from app.domain.zengin import (
    fit,
    holder_name_mismatch,
    post_bank_transfer_account,
    to_zengin_kana,
)


@pytest.mark.parametrize(("typed", "expected"), [
    ("ヤマダ　タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"),  # full-width space, voiced mark split into its own byte
    ("やまだ たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"),  # hiragana
    ("ｷｮｳｺ", "ｷﾖｳｺ"),  # small half-width kana become large
    ("ジョウ　シュンスケ", "ｼﾞﾖｳ ｼﾕﾝｽｹ"),
    ("ヴィトン", "ｳﾞｲﾄﾝ"),
    ("サトウ　ユーコ", "ｻﾄｳ ﾕ-ｺ"),  # the long vowel becomes '-'
    ("ｶﾌﾞｼｷｶﾞｲｼｬ ｾﾌﾞﾝ・ﾍﾟｲ", "ｶﾌﾞｼｷｶﾞｲｼﾔ ｾﾌﾞﾝ.ﾍﾟｲ"),
    ("smith john", "SMITH JOHN"),  # Latin letters upper case
    ("（カ）ヤマダ", "(ｶ)ﾔﾏﾀﾞ"),
])
def test_names_become_half_width_zengin_kana(typed, expected):
    converted = to_zengin_kana(typed)
    assert converted == expected
    assert len(converted.encode("cp932")) == len(converted)  # one byte each


@pytest.mark.parametrize("typed", ["山田 太郎", "ヤマダ♡タロウ", "ヤマダ@"])
def test_what_cannot_be_converted_is_refused_with_the_character(typed):
    with pytest.raises(ValidationError) as caught:
        to_zengin_kana(typed)
    assert "使えない文字" in caught.value.ja


# Characters the Zengin set has but strict banks refuse in names (PCA「全銀協使用可能文字」:
# 委託者名・振込先名カナ take カナ without ヲ and small kana, ﾞ ﾟ, A–Z, 0–9, space and
# ( ) - . only): refused, and named, rather than passed to a bank that refuses the file.
@pytest.mark.parametrize(("typed", "named"), [
    ("ヲノ タロウ", "ヲ"), ("ｦﾉ ﾀﾛｳ", "ｦ"), ("「ヤマダ」", "「"), ("ﾔﾏﾀﾞ｣", "｣"),
    ("ヤマダ¥", "¥"), ("ヤマダ￥", "￥"), ("ヤマダ\\", "\\"), ("ヤマダ/タロウ", "/"),
    ("ヤマダ,タロウ", ","), ("ヤマダ，タロウ", "，"),
])
def test_symbols_strict_banks_refuse_are_refused_by_name(typed, named):
    with pytest.raises(ValidationError) as caught:
        to_zengin_kana(typed)
    assert f"「{named}」" in caught.value.ja
    assert repr(named) in caught.value.en or f"'{named}'" in caught.value.en


@pytest.mark.parametrize("typed", [".ヤマダ", "・ヤマダ", "　．ヤマダ"])
def test_a_name_never_starts_with_a_full_stop(typed):
    with pytest.raises(ValidationError) as caught:
        to_zengin_kana(typed)
    assert "「.」" in caught.value.ja and "'.'" in caught.value.en
    assert to_zengin_kana("ヤマダ・タロウ") == "ﾔﾏﾀﾞ.ﾀﾛｳ"  # inside a name it is fine


def test_what_a_name_becomes_is_only_what_strict_banks_take():
    allowed = set(" ()-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞﾟ")
    typed = ("アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨ"
             "ラリルレロワン ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポヴ"
             "ァィゥェォッャュョヮヵヶヰヱー（）－．・ abc ＡＢＣ１２３")
    converted = to_zengin_kana(typed)
    assert set(converted) <= allowed
    assert len(converted.encode("shift_jis")) == len(converted)


def test_payout_details_refuse_a_holder_name_a_file_cannot_carry():
    details = PayoutDetails(PayoutKind.BANK_ACCOUNT, bank_code="0001", branch_code="001",
                            account_type="ordinary", account_number="1234567",
                            holder_kana="山田太郎")
    with pytest.raises(ValidationError):
        normalise(details, Channel.DEBIT_CHARGE)


def test_bank_names_are_filled_from_zengin_code():
    details = PayoutDetails(PayoutKind.BANK_ACCOUNT, bank_code="0005", branch_code="001",
                            account_type="ordinary", account_number="1234567",
                            holder_kana="ヤマダ タロウ")
    clean = normalise(details, Channel.DEBIT_CHARGE)
    assert clean.bank_name == "三菱ＵＦＪ" and clean.branch_name == "本店"


def test_fit_never_separates_a_voiced_mark_from_its_kana():
    assert fit("ｶﾞｶﾞｶﾞ", 5) == "ｶﾞｶﾞ "  # cutting after the third ｶ would change the sound
    assert fit("ﾔﾏﾀﾞ", 10) == "ﾔﾏﾀﾞ      "


def test_japan_post_bank_kigou_bangou():
    # The example printed in the banks' own guidance: 10530-12345671 → 〇五八 058 1234567.
    account = post_bank_transfer_account("10530", "12345671")
    assert (account.branch_code, account.branch_name, account.account_number) == (
        "058", "〇五八", "1234567")
    assert post_bank_transfer_account("１７３００", "1992761").account_number == "0199276"
    with pytest.raises(ValidationError):
        post_bank_transfer_account("00530", "12345671")  # 振替口座: not guessed
    with pytest.raises(ValidationError):
        post_bank_transfer_account("10530", "12345678")  # a 通常貯金 番号 ends in 1


def test_japan_post_bank_details_pass_the_payout_rules():
    details = normalise(japan_post_bank("10530", "12345671", "ユウチョ タロウ"),
                        Channel.UNAUTHORIZED_USE)
    assert (details.bank_code, details.branch_code, details.account_number) == (
        "9900", "058", "1234567")
    assert details.masked()["account_number"].endswith("567")
    assert "1234567" not in str(details.masked())


def test_holder_name_mismatch_is_flagged():
    assert not holder_name_mismatch("ﾔﾏﾀﾞ ﾀﾛｳ", "やまだ たろう")
    assert not holder_name_mismatch("ヤマダタロウ", "ヤマダ　タロウ")
    assert holder_name_mismatch("ヤマダ ハナコ", "ヤマダ タロウ")
    assert not holder_name_mismatch(None, "ヤマダ タロウ")


def test_banks_and_branches_are_found_by_code_or_name():
    from app.domain import banks

    assert [b.code for b in banks.find_banks("0005")] == ["0005"]
    assert "0005" in [b.code for b in banks.find_banks("みつびしゆ")]
    assert "9900" in [b.code for b in banks.find_banks("ゆうちょ")]
    assert [b.name for b in banks.find_branches("9900", "058")] == ["〇五八"]
    assert banks.find_branches("0005", "ほんてん")[0].code == "001"
    assert banks.bank("0000") is None and banks.branch("0005", "999") is None


def test_the_bank_table_can_be_loaded_ahead_of_the_first_search():
    from app.domain import banks as bank_table

    assert bank_table.preload() > 1000  # every bank, not a sample
    assert bank_table.find_banks("0001")[0].code == "0001"
