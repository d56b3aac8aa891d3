"""The 総合振込 file: 120-byte records, header/data/trailer/end, CP932 half-width kana."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.zengin import line_end, to_zengin_kana
from app.exports.zengin import Sender, Transfer, split_records, transfer_file

SENDER = Sender(company_code="1234567890", company_name=to_zengin_kana("カ）セブン・ペイ"),
                bank_code="0005", bank_name="ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ", branch_code="001",
                branch_name="ﾎﾝﾃﾝ", account_type="ordinary", account_number="7654321")


def _transfers() -> list[Transfer]:
    long_name = to_zengin_kana("チョウソカベ　ジュウザエモン　ノブチカ　ガッショウヅクリ")
    return [
        Transfer("0001", "ﾐｽﾞﾎ", "001", "ﾄｳｷﾖｳｴｲｷﾞﾖｳﾌﾞ", "ordinary", "1234567",
                 to_zengin_kana("キョウコ　ショウジ"), 30_000, "12", "1"),
        Transfer("9900", "ﾕｳﾁﾖ", "058", "", "ordinary", "1234567", long_name, 1_234, "13", "2"),
        Transfer("0009", "", "100", "", "current", "0000001", "ABC", 999_999, "14", "3"),
    ]


@pytest.mark.parametrize("newline", ["crlf", "lf", "none"])
def test_every_record_is_120_bytes_and_the_trailer_adds_up(newline):
    transfers = _transfers()
    data = transfer_file(SENDER, date(2019, 9, 17), transfers, line_end(newline))
    records = split_records(data)
    assert len(data) == len(records) * (120 + len(line_end(newline)))
    assert all(len(r) == 120 for r in records)
    kinds = [r[:1] for r in records]
    assert kinds == [b"1", b"2", b"2", b"2", b"8", b"9"]
    body = [r for r in records if r[:1] == b"2"]
    amounts = [int(r[80:90]) for r in body]
    assert amounts == [t.amount for t in transfers]
    trailer = records[-2]
    assert int(trailer[1:7]) == len(body) and int(trailer[7:19]) == sum(amounts)
    header = records[0]
    assert header[:4] == b"1210" and header[14:54].decode("cp932").startswith("ｶ)ｾﾌﾞﾝ.ﾍﾟｲ")
    assert header[54:58] == b"0917"  # MMDD


def test_names_decode_as_half_width_kana_without_small_kana():
    records = split_records(transfer_file(SENDER, date(2019, 9, 17), _transfers()))
    first = records[1].decode("cp932")
    holder = first[50:80]
    assert holder.rstrip() == "ｷﾖｳｺ ｼﾖｳｼﾞ"
    assert all("\uff61" <= c <= "\uff9f" or c == " " for c in holder)
    assert not any(c in holder for c in "ｧｨｩｪｫｬｭｮｯ")
    # The long name is cut at 30 bytes and never leaves a kana without its ﾞ.
    second = records[2].decode("cp932")[50:80]
    assert len(second.encode("cp932")) == 30
    assert second.rstrip() and second.rstrip()[-1] != "ｶ"
    assert records[2][60:80].decode("cp932")  # still valid CP932 throughout


def test_a_record_that_would_not_be_120_bytes_is_refused():
    bad = Transfer("0001", "", "001", "", "ordinary", "12345678", "ABC", 1)
    with pytest.raises(ValueError):
        transfer_file(SENDER, date(2019, 9, 17), [bad])
