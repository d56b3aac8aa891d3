"""The letters engine: wording, layout and PDF rendering. No database, no Qt.

Typical use by a service::

    from app.letters import LetterData, LetterSettings, render_letters
    result = render_letters(letters, out_path, settings=LetterSettings(date_style="era"),
                            progress=report, cancel=flag.is_set)
    for letter in result.rendered: ...   # record on the case (code, sha256)
    for refused in result.refused: ...   # show the operator (names the character)
"""

from app.letters.alignment import render_alignment_sheet
from app.letters.batch import render_letter, render_letters, safe_file_name
from app.letters.compose import LetterRenderer, format_date
from app.letters.errors import (
    LetterDataError,
    LetterError,
    UnprintableCharacterError,
    WordingError,
)
from app.letters.fonts import find_unprintable
from app.letters.model import (
    COMPENSATION,
    REFUND,
    REFUND_KINDS,
    BankPayout,
    BatchResult,
    CardPayout,
    DateStyle,
    Incident,
    LetterData,
    LetterKind,
    LetterSettings,
    NanacoPayout,
    Payout,
    PostalOrderPayout,
    Recipient,
    RefusedLetter,
    RenderedLetter,
    payout_from_details,
)
from app.letters.qr import qr_matrix
from app.letters.wording import ChecklistItem, Wording, deficiency_checklist, load_wording

__all__ = [
    "COMPENSATION",
    "REFUND",
    "REFUND_KINDS",
    "BankPayout",
    "BatchResult",
    "CardPayout",
    "ChecklistItem",
    "DateStyle",
    "Incident",
    "LetterData",
    "LetterDataError",
    "LetterError",
    "LetterKind",
    "LetterRenderer",
    "LetterSettings",
    "NanacoPayout",
    "Payout",
    "PostalOrderPayout",
    "Recipient",
    "RefusedLetter",
    "RenderedLetter",
    "UnprintableCharacterError",
    "Wording",
    "WordingError",
    "deficiency_checklist",
    "find_unprintable",
    "format_date",
    "load_wording",
    "payout_from_details",
    "qr_matrix",
    "render_alignment_sheet",
    "render_letter",
    "render_letters",
    "safe_file_name",
]
