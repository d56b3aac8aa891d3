"""Sample letters and PDF helpers for the letters engine's tests (imported by them)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.domain.case_number import format_case_number
from app.domain.channels import Channel
from app.letters import (
    BankPayout,
    CardPayout,
    Incident,
    LetterData,
    LetterKind,
    NanacoPayout,
    PostalOrderPayout,
    Recipient,
)

CASE = format_case_number(1234)  # H-0001234-4
RECIPIENT = Recipient("山田　太郎", "1020084", "東京都千代田区二番町8番地8",
                      "セブンマンション101号室")
INCIDENTS = (
    Incident(date(2019, 7, 3), Channel.CREDIT_CHARGE, 30_000, "セブン-イレブン 千代田二番町店"),
    Incident(date(2019, 7, 3), Channel.CREDIT_CHARGE, 20_000),
    Incident(date(2019, 7, 4), Channel.CREDIT_CHARGE, 38_565_473, "nanaco"),
)
# The whole programme's total, as one case, to see a long amount printed.
TOTAL = 38_615_473


def guidance(**changes) -> LetterData:
    base = LetterData(LetterKind.GUIDANCE, "G7K2-QX9P", CASE, Channel.CREDIT_CHARGE, RECIPIENT,
                      date(2019, 8, 19), incidents=INCIDENTS, reply_by=date(2019, 9, 30))
    return replace(base, **changes)


def deficiency(**changes) -> LetterData:
    base = LetterData(LetterKind.DEFICIENCY, "D4M8-ZR2T", CASE, Channel.DEBIT_CHARGE, RECIPIENT,
                      date(2019, 9, 2),
                      deficiency_items=("signature_missing", "id_copy_unreadable",
                                        "bankbook_copy_missing"),
                      reply_by=date(2019, 9, 30))
    return replace(base, **changes)


BANK = BankPayout("みずほ銀行", "麹町支店", "ordinary", "1234567", "ヤマダ タロウ")
NANACO = NanacoPayout("1234567890123456")
CARD = CardPayout("セブンカード・サービス", "4321", date(2019, 7, 15), date(2019, 8, 10))


def payment_notice(**changes) -> LetterData:
    base = LetterData(LetterKind.PAYMENT_NOTICE, "P9N3-WK5L", CASE, Channel.DEBIT_CHARGE,
                      RECIPIENT, date(2019, 10, 1), paid_amount=TOTAL,
                      paid_date=date(2019, 9, 30), payout=BANK)
    return replace(base, **changes)


SAMPLES = {"guidance": guidance, "deficiency": deficiency, "payment_notice": payment_notice}


def numbered(factory, n: int, **changes) -> LetterData:
    return factory(case_number=format_case_number(n), letter_code=f"T{n:05d}", **changes)


def pdf_text(path_or_bytes, pages: slice | None = None) -> str:
    """All text of a PDF, whitespace removed (lines break anywhere in Japanese)."""
    import io

    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    reader = PdfReader(source)
    chosen = reader.pages[pages] if pages else reader.pages
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in chosen))


def _pdftoppm() -> str:
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.skip("poppler-utils (pdftoppm) is not installed")
    return tool


def rasterise(pdf: Path, out_prefix: Path, *, dpi: int, first: int = 1, last: int = 1,
              gray: bool = True) -> list[Path]:
    args = [_pdftoppm(), "-r", str(dpi), "-f", str(first), "-l", str(last), "-png"]
    if gray:
        args.append("-gray")
    subprocess.run([*args, str(pdf), str(out_prefix)], check=True)
    return sorted(out_prefix.parent.glob(out_prefix.name + "*.png"))




# The balance-refund programme's letters: an application's, not a case's.
APPLICATION = "APP-2019-0012345"
POSTAL = PostalOrderPayout("00160-3-128001", date(2020, 6, 30))


def _refund(kind: LetterKind, code: str, **fields) -> LetterData:
    return LetterData(kind, code, "", None, RECIPIENT, date(2019, 12, 2),
                      application_id=APPLICATION, applied_on=date(2019, 10, 3), **fields)


def refund_confirmation(**changes) -> LetterData:
    return replace(_refund(LetterKind.REFUND_CONFIRMATION, "R3C8-KQ2M", balance=38_615,
                           from_charges=10_000, refund_amount=28_615, payout=BANK), **changes)


def refund_refusal(**changes) -> LetterData:
    return replace(_refund(LetterKind.REFUND_REFUSAL, "R5F2-ZP7W",
                           refusal_reason="account_closed", closed_on=date(2019, 8, 20)),
                   **changes)


def refund_payment(**changes) -> LetterData:
    return replace(_refund(LetterKind.REFUND_PAYMENT, "R9P4-MX3T", paid_amount=28_615,
                           paid_date=date(2019, 12, 20), payout=BANK), **changes)


def refund_postal(**changes) -> LetterData:
    return replace(_refund(LetterKind.REFUND_PAYMENT, "R2Y6-HD9B", paid_amount=12_800,
                           payout=POSTAL), **changes)


REFUND_SAMPLES = {"refund_confirmation": refund_confirmation, "refund_refusal": refund_refusal,
                  "refund_payment": refund_payment, "refund_postal": refund_postal}
