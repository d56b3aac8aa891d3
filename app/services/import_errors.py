"""The refused rows of an import, as a CSV file an operator opens in Excel."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from app.exports.csv_safe import SafeCsvWriter, open_safe_csv
from app.services.imports import RefusedRow

HEADER_PREFIX = ["行番号 line", "結果 outcome", "理由 reasons"]


class RefusedRowsFile(AbstractContextManager):
    """Collects refused rows as the import streams them (memory stays flat)."""

    def __init__(self, path: str | Path, header: list[str]) -> None:
        self.path = Path(path)
        self.header = header
        self._context = open_safe_csv(self.path)
        self._writer: SafeCsvWriter | None = None
        self.count = 0

    def __enter__(self) -> RefusedRowsFile:
        self._writer = self._context.__enter__()
        self._writer.row(HEADER_PREFIX + self.header)
        return self

    def __exit__(self, *exc) -> bool | None:
        return self._context.__exit__(*exc)

    def add(self, row: RefusedRow) -> None:
        assert self._writer is not None
        outcome = {"rejected": "不備 rejected", "conflict": "重複不一致 conflict"}[row.outcome]
        self._writer.row([row.line, outcome, "\n".join(row.reasons), *row.cells])
        self.count += 1


