"""The three files the import wizard takes, and which one a file is by its header.

An incident list (incident-csv.md), the closing balances and the applications
(balance-refund.md) share the engine: encoding, header matching, every row accounted
for. Their headers differ in the required fields: a header that has every required
column of exactly one kind is that kind; otherwise the operator chooses.
"""

from __future__ import annotations

from pathlib import Path

from app.importers.columns import match_columns
from app.importers.incident_csv import detect_file_encoding
from app.importers.refund_csv import APPLICATIONS, BALANCES, _header, match_refund_columns
from app.importers.textfile import delimiter_for

INCIDENTS = "incidents"
KINDS: tuple[str, ...] = (INCIDENTS, BALANCES.name, APPLICATIONS.name)
REFUND_KINDS = {BALANCES.name: BALANCES, APPLICATIONS.name: APPLICATIONS}


def missing_for(kind: str, header: list[str]) -> list[str]:
    """The required fields of ``kind`` that no column of ``header`` holds."""
    if kind == INCIDENTS:
        return match_columns(header).missing
    return match_refund_columns(REFUND_KINDS[kind], header).missing


def recognise(header: list[str]) -> str | None:
    """The one kind whose required columns the header all has, else None."""
    complete = [kind for kind in KINDS if not missing_for(kind, header)]
    return complete[0] if len(complete) == 1 else None


def recognise_file(path: str | Path) -> str | None:
    """``recognise`` on the file's header row (FileRefused for a file that is not text
    in an accepted encoding, or has no header)."""
    path = Path(path)
    _line, header, _rows = _header(path, detect_file_encoding(path), delimiter_for(path))
    return recognise(header)
