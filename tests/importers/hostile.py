"""Hypothesis strategies for hostile incident files, shared by the importer and service
property tests: any cell may be arbitrary unicode, a huge number, an odd date or control
characters, among values good enough that some rows are accepted."""

from __future__ import annotations

import csv
import io
from datetime import date

from hypothesis import strategies as st

from app.importers.columns import FIELDS

HEADER = ["受付番号", "7iD", "氏名", "フリガナ", "電話番号", "メールアドレス", "郵便番号", "住所",
          "被害区分", "発生日時", "被害金額", "カード会社", "カード下4桁", "連絡先受領日",
          "利用店舗", "備考"]

GOOD = {
    "report_id": ["P1", "P2", "P3", "P4", "Ｐ５"],
    "member_id": ["", "7i0001", "７ｉ０００２"],
    "name": ["山田 太郎", "佐藤　花子", "㈱髙橋"],
    "name_kana": ["", "ヤマダ タロウ", "ｻﾄｳ ﾊﾅｺ"],
    "phone": ["090-1234-5678", "０９０１２３４５６７８", ""],
    "email": ["", "taro@example.jp"],
    "postal_code": ["", "〒123-4567"],
    "address": ["", "東京都千代田区\n丸の内1-1"],
    "channel": ["nanaco", "クレジット", "debit", "不正利用"],
    "occurred_at": ["2019/07/03", "令和元年7月3日", "2019-07-03T14:05:00+09:00", "R1.7.3"],
    "amount": ["1000", "１，０００円", "\\1,000", "￥2,500"],
    "card_issuer": ["", "セブンカード"],
    "card_last4": ["", "0123"],
    "contact_received_at": ["", "2019/08/01"],
    "merchant": ["", "千代田店"],
    "note": ["", "二重請求の疑い～"],
}

ODD = [
    "\x00", "\x01", "\x1b[2J", "\x7f", "\x85", "\u2028", "\ufeff", "\ufffe", "\ufdfa" * 20,
    "0001-01-01", "9999-12-31", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00+14:00",
    "2019/02/30", "令和元年4月30日", "H31.4.30 25:61", "R99.99.99", "2018-12-31T23:59:59Z",
    "٣٠٠٠", "३०००", "𝟏𝟎𝟎𝟎", "①", "½", "-0", "0", "1e9", "1,00,0", "NaN", "¥-1",
    "H-%", "_", "'; DROP TABLE incident; --", '"', '""', "=1+1", " ", "\t", "\r", "\n\n",
    "-" + " " * 400 + "x",
]


def odd_cell() -> st.SearchStrategy[str]:
    digits = st.sampled_from(["9", "０", "٣", "𝟏", "1,"])
    return st.one_of(
        st.text(max_size=30),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
        st.sampled_from(ODD),
        st.builds(lambda n, d: d * n, st.integers(1, 6000), digits),
        st.integers().map(str),
        st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(
            lambda d: f"{d.year}/{d.month}/{d.day}"),
        st.text(max_size=5).map(lambda t: "R" * 70 + t),
    )


@st.composite
def hostile_row(draw) -> list[str]:
    cells = []
    for name in FIELDS:
        if draw(st.integers(0, 4)) == 0:
            cells.append(draw(odd_cell()))
        else:
            cells.append(draw(st.sampled_from(GOOD[name])))
    return cells


def file_bytes(rows: list[list[str]], encoding: str) -> bytes:
    """The rows under the full header, quoted as csv writes them, in ``encoding`` (UTF-8,
    with lone surrogates written as the invalid bytes they become, when it cannot)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    text = out.getvalue()
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="surrogatepass")


def non_blank(rows: list[list[str]]) -> int:
    return sum(1 for row in rows if any(cell.strip() for cell in row))


def explains_refusal(rows: list[list[str]], data: bytes) -> bool:
    """Whether a whole-file refusal is what the contract asks for: a NUL byte, bytes in
    neither UTF-8 nor CP932 (surrogates, CP932's stray bytes), or a file in CP932."""
    if b"\x00" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
