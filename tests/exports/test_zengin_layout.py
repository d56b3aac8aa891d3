"""The 総合振込 file read back by a parser written from the banks' published layout,
not from the program's writer: every field of every record, by its published position.

Positions, widths and allowed codes are those of the 全銀協規定フォーマット for 総合振込
(種別コード 21) as banks publish it:
- 群馬銀行「全銀協制定ファイルフォーマット【総合振込】」(expydoc.com/doc/11700435):
  the fields and widths of the header, data, trailer and end records; 数字項目は右詰・
  残り0, カナ・英大文字項目は左詰・残りスペース; 依頼人の預金種目 1・2・9, 受取人の
  預金種目 1・2・4・9; 手形交換所番号 N(4)「未使用(0とする)」.
- 「参考資料 持込規格」(expydoc.com/doc/8010391): the same header by column position
  (5〜14 会社コード, 15〜54 依頼人名, 55〜58 振込指定日, ... 96 依頼人預金種目,
  97〜103 口座番号, 104〜120 空き).
- PCA「全銀協使用可能文字」(pca.jp/area_support/manual/kk/Z1sanko/z1_zengin.html):
  委託者名・振込先名カナ are カナ (ヲ and small kana excepted), ﾞ ﾟ, A–Z, 0–9, space
  and ( ) - . ; 円マーク, 「 」, ヲ, カンマ and スラッシュ are not to be used.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.zengin import line_end, to_zengin_kana
from app.exports.zengin import Sender, Transfer, transfer_file

# (name, first column counted from 1, width, N = digits | C = half-width text | fixed text)
HEADER = [
    ("データ区分", 1, 1, "1"), ("種別コード", 2, 2, "21"), ("コード区分", 4, 1, "0"),
    ("依頼人コード", 5, 10, "N"), ("依頼人名", 15, 40, "C"), ("振込指定日", 55, 4, "N"),
    ("仕向銀行番号", 59, 4, "N"), ("仕向銀行名", 63, 15, "C"),
    ("仕向支店番号", 78, 3, "N"), ("仕向支店名", 81, 15, "C"),
    ("預金種目", 96, 1, "N"), ("口座番号", 97, 7, "N"), ("ダミー", 104, 17, "C"),
]
DATA = [
    ("データ区分", 1, 1, "2"), ("被仕向銀行番号", 2, 4, "N"), ("被仕向銀行名", 6, 15, "C"),
    ("被仕向支店番号", 21, 3, "N"), ("被仕向支店名", 24, 15, "C"),
    ("手形交換所番号", 39, 4, "N"), ("預金種目", 43, 1, "N"), ("口座番号", 44, 7, "N"),
    ("受取人名", 51, 30, "C"), ("振込金額", 81, 10, "N"), ("新規コード", 91, 1, "N"),
    ("顧客コード1", 92, 10, "N"), ("顧客コード2", 102, 10, "N"),
    ("振込指定区分", 112, 1, "N"), ("識別表示", 113, 1, "C"), ("ダミー", 114, 7, "C"),
]
TRAILER = [("データ区分", 1, 1, "8"), ("合計件数", 2, 6, "N"), ("合計金額", 8, 12, "N"),
           ("ダミー", 20, 101, "C")]
END = [("データ区分", 1, 1, "9"), ("ダミー", 2, 119, "C")]
LAYOUTS = {b"1": HEADER, b"2": DATA, b"8": TRAILER, b"9": END}

# Bytes a name field may hold in Shift_JIS: space ( ) - . digits A–Z, ｱ (0xB1) to ﾝ
# (0xDD) and ﾞ ﾟ (0xDE 0xDF). Not ｦ (0xA6), ｢ ｣ (0xA2 0xA3), small kana (0xA7–0xAF),
# ｰ (0xB0), ¥ (0x5C), ',' or '/'.
NAME_BYTES = frozenset(b" ()-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") | frozenset(
    range(0xB1, 0xE0))


@pytest.mark.parametrize("layout", [HEADER, DATA, TRAILER, END])
def test_the_reference_layout_itself_covers_120_bytes_without_gaps(layout):
    column = 1
    for _name, start, width, _kind in layout:
        assert start == column
        column += width
    assert column == 121


def parse(record: bytes) -> dict[str, bytes]:
    """One record sliced by the published positions; each field checked for its kind."""
    assert len(record) == 120
    fields = {}
    for name, start, width, kind in LAYOUTS[record[:1]]:
        raw = record[start - 1:start - 1 + width]
        assert len(raw) == width
        if kind == "N":
            assert raw.isdigit(), (name, raw)  # right-aligned, zero-filled: digits only
        elif kind == "C":
            assert set(raw) <= NAME_BYTES, (name, raw)
            text = raw.rstrip(b" ")
            assert not text.startswith(b" "), (name, raw)  # left-aligned
            assert raw == text.ljust(width, b" ")  # space-filled
        else:
            assert raw == kind.encode(), (name, raw)
        fields[name] = raw
    return fields


def records(data: bytes, newline: bytes) -> list[bytes]:
    """Split by the line end the file was asked for: every record ends with it."""
    step = 120 + len(newline)
    assert len(data) % step == 0
    lines = [data[i:i + step] for i in range(0, len(data), step)]
    assert all(line.endswith(newline) for line in lines)
    return [line[:120] for line in lines]


SENDER = Sender(company_code="0012345678", company_name=to_zengin_kana("カ）セブン・ペイ"),
                bank_code="0005", bank_name="ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ", branch_code="001",
                branch_name="ﾎﾝﾃﾝ", account_type="ordinary", account_number="0654321")
TRANSFERS = [
    Transfer("0001", "ﾐｽﾞﾎ", "001", "ﾄｳｷﾖｳｴｲｷﾞﾖｳﾌﾞ", "ordinary", "1234567",
             to_zengin_kana("キョウコ　ショウジ"), 30_000, "12", "1"),
    Transfer("9900", "ﾕｳﾁﾖ", "058", "", "savings", "0000123", "ABC 123", 1_234, "13", "2"),
    Transfer("0009", "", "100", "", "current", "7654321", to_zengin_kana("ヤマダ（カ"),
             9_999_999_999, "", ""),
]


@pytest.mark.parametrize("setting, newline", [("crlf", b"\r\n"), ("lf", b"\n"),
                                              ("none", b"")])
def test_every_field_is_where_the_published_layout_puts_it(setting, newline):
    data = transfer_file(SENDER, date(2019, 9, 17), TRANSFERS, line_end(setting))
    parsed = [parse(r) for r in records(data, newline)]
    assert [p["データ区分"] for p in parsed] == [b"1", b"2", b"2", b"2", b"8", b"9"]

    header = parsed[0]
    assert header["依頼人コード"] == b"0012345678"
    assert header["依頼人名"] == "ｶ)ｾﾌﾞﾝ.ﾍﾟｲ".ljust(40).encode("shift_jis")
    assert header["振込指定日"] == b"0917"
    assert header["仕向銀行番号"] == b"0005"
    assert header["仕向銀行名"] == "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ".ljust(15).encode("shift_jis")
    assert header["仕向支店番号"] == b"001"
    assert header["仕向支店名"] == b"\xce\xdd\xc3\xdd" + b" " * 11  # ﾎﾝﾃﾝ in Shift_JIS
    assert header["預金種目"] == b"1"
    assert header["口座番号"] == b"0654321"
    assert header["ダミー"] == b" " * 17

    first, second, third = parsed[1:4]
    assert first["被仕向銀行番号"] == b"0001"
    assert first["被仕向銀行名"] == "ﾐｽﾞﾎ".ljust(15).encode("shift_jis")
    assert first["被仕向支店番号"] == b"001"
    assert first["被仕向支店名"] == "ﾄｳｷﾖｳｴｲｷﾞﾖｳﾌﾞ".ljust(15).encode("shift_jis")
    assert first["受取人名"] == "ｷﾖｳｺ ｼﾖｳｼﾞ".ljust(30).encode("shift_jis")
    assert first["振込金額"] == b"0000030000"
    assert (first["顧客コード1"], first["顧客コード2"]) == (b"0000000012", b"0000000001")
    for row in (first, second, third):
        assert row["手形交換所番号"] == b"0000"  # 未使用: zero-filled, not spaces
        assert row["新規コード"] == b"0"
        assert row["振込指定区分"] in (b"7", b"8")  # テレ振込 / 文書振込
        assert row["識別表示"] == b" " and row["ダミー"] == b" " * 7
    # 受取人の預金種目: 1 普通, 2 当座, 4 貯蓄 (9 その他), as published for data records.
    assert [r["預金種目"] for r in (first, second, third)] == [b"1", b"4", b"2"]
    assert second["口座番号"] == b"0000123" and second["受取人名"].rstrip() == b"ABC 123"
    assert second["被仕向支店名"] == b" " * 15  # unknown name: blank, the codes decide
    assert third["受取人名"].rstrip() == "ﾔﾏﾀﾞ(ｶ".encode("shift_jis")
    assert third["振込金額"] == b"9999999999"
    assert (third["顧客コード1"], third["顧客コード2"]) == (b"0" * 10, b"0" * 10)

    trailer = parsed[4]
    assert int(trailer["合計件数"]) == 3
    assert int(trailer["合計金額"]) == sum(t.amount for t in TRANSFERS)
    assert trailer["ダミー"] == b" " * 101
    assert parsed[5]["ダミー"] == b" " * 119


@pytest.mark.parametrize("account_type, code", [("ordinary", b"1"), ("current", b"2"),
                                                ("other", b"9")])
def test_the_sender_account_type_is_1_2_or_9(account_type, code):
    sender = Sender(**{**SENDER.__dict__, "account_type": account_type})
    header = parse(records(transfer_file(sender, date(2019, 9, 17), TRANSFERS), b"\r\n")[0])
    assert header["預金種目"] == code


def test_a_savings_sender_account_is_never_written_as_4():
    sender = Sender(**{**SENDER.__dict__, "account_type": "savings"})
    with pytest.raises(ValueError, match="savings"):
        transfer_file(sender, date(2019, 9, 17), TRANSFERS)


def test_an_empty_batch_still_has_a_trailer_of_zeros():
    parsed = [parse(r) for r in records(transfer_file(SENDER, date(2019, 9, 17), []),
                                        b"\r\n")]
    assert [p["データ区分"] for p in parsed] == [b"1", b"8", b"9"]
    assert parsed[1]["合計件数"] == b"000000" and parsed[1]["合計金額"] == b"0" * 12
