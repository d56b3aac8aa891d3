"""The 総合振込 (Zengin general transfer) file: 120-byte records in CP932.

Records: one header (データ区分 1), one data record per transfer (2), a trailer
with the count and the sum of the data records (8) and an end record (9), laid out
as banks publish the 全銀協規定フォーマット (tests/exports/test_zengin_layout.py reads
them back by the published positions). Names are half-width katakana
(app.domain.zengin); every record is checked to be exactly 120 bytes before
anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app.domain.zengin import (
    ENCODING,
    RECIPIENT_ACCOUNT_TYPE_CODES,
    SENDER_ACCOUNT_TYPE_CODES,
    fit,
    number,
)

RECORD_BYTES = 120
TRANSFER_KIND = "21"  # 種別コード: 総合振込
CODE_SJIS = "0"  # コード区分: JIS/SJIS
CLEARING_HOUSE = "0000"  # 手形交換所番号: 未使用, published as zero-filled


@dataclass(frozen=True)
class Sender:
    company_code: str  # 依頼人コード, 10 digits given by the bank
    company_name: str  # 依頼人名, Zengin kana
    bank_code: str
    bank_name: str  # kana
    branch_code: str
    branch_name: str  # kana
    account_type: str  # ordinary / current / other (never savings: 1, 2 or 9 only)
    account_number: str


@dataclass(frozen=True)
class Transfer:
    bank_code: str
    bank_name: str  # kana, may be blank (a bank or branch zengin-code no longer lists)
    branch_code: str
    branch_name: str
    account_type: str
    account_number: str
    holder: str  # Zengin kana
    amount: int
    customer_code1: str = ""  # digits: our case id
    customer_code2: str = ""  # digits: the transfer's sequence in its batch


def _record(*fields: str) -> bytes:
    data = "".join(fields).encode(ENCODING)
    if len(data) != RECORD_BYTES:
        raise ValueError(f"record of {len(data)} bytes, not {RECORD_BYTES}")
    return data


def _type_code(codes: dict[str, str], account_type: str, whose: str) -> str:
    try:
        return codes[account_type]
    except KeyError:
        raise ValueError(f"{whose} account type {account_type!r} is not one of "
                         f"{', '.join(codes)}") from None


def header(sender: Sender, transfer_date: date) -> bytes:
    return _record(
        "1", TRANSFER_KIND, CODE_SJIS, number(sender.company_code, 10),
        fit(sender.company_name, 40), f"{transfer_date:%m%d}",
        number(sender.bank_code, 4), fit(sender.bank_name, 15),
        number(sender.branch_code, 3), fit(sender.branch_name, 15),
        _type_code(SENDER_ACCOUNT_TYPE_CODES, sender.account_type, "sender"),
        number(sender.account_number, 7), " " * 17,
    )


def data_record(t: Transfer) -> bytes:
    return _record(
        "2", number(t.bank_code, 4), fit(t.bank_name, 15), number(t.branch_code, 3),
        fit(t.branch_name, 15), CLEARING_HOUSE,
        _type_code(RECIPIENT_ACCOUNT_TYPE_CODES, t.account_type, "recipient"),
        number(t.account_number, 7), fit(t.holder, 30), number(t.amount, 10), "0",
        number(t.customer_code1 or 0, 10), number(t.customer_code2 or 0, 10),
        "7",  # 振込指定区分: テレ振込
        " ", " " * 7,
    )


def trailer(count: int, total: int) -> bytes:
    return _record("8", number(count, 6), number(total, 12), " " * 101)


def end_record() -> bytes:
    return _record("9", " " * 119)


def transfer_file(sender: Sender, transfer_date: date, transfers: Sequence[Transfer],
                  newline: bytes = b"\r\n") -> bytes:
    """The whole file; ``newline`` is what the bank wants after each record (may be empty)."""
    records = [header(sender, transfer_date)]
    records += [data_record(t) for t in transfers]
    records.append(trailer(len(transfers), sum(t.amount for t in transfers)))
    records.append(end_record())
    return b"".join(r + newline for r in records)


def split_records(data: bytes) -> list[bytes]:
    """The 120-byte records of a file, whatever its line ends (for checks and tests)."""
    body = data.replace(b"\r\n", b"").replace(b"\n", b"")
    return [body[i:i + RECORD_BYTES] for i in range(0, len(body), RECORD_BYTES)]
