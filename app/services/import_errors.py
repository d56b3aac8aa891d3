"""The refused rows of an import, as a CSV file an operator opens in Excel.

They hold names and phone numbers, but only those of the operator's own input file
(nothing read from the database is added), and the operator who ran the import is
the one who must correct them: saving them is open to that operator, without a
step-up code, and recorded in the audit trail (``save_refused_rows``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from app.core.files import written_into_place
from app.domain.roles import Actor, Role
from app.exports.csv_safe import SafeCsvWriter, open_safe_csv
from app.services import audit
from app.services.context import AppContext, confirmed_actor, require_role
from app.services.imports import ImportSummary, RefusedRow, import_incidents
from app.services.refunds_import import (
    RefundImportSummary,
    import_applications,
    import_balances,
)

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


def import_spooling_refused(
    ctx: AppContext, actor: Actor, path: str | Path, *, mapping: dict[str, str] | None,
    dry_run: bool, spool: str | Path, header: list[str],
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ImportSummary:
    """The import (or its dry run) of the wizard: every refused row is spooled to
    ``spool`` as it comes, for the operator to save later (``save_refused_rows``)."""
    with RefusedRowsFile(spool, header) as refused:
        return import_incidents(ctx, actor, path, mapping=mapping, dry_run=dry_run,
                                on_refused=refused.add, progress=progress, cancel=cancel)


def import_refunds_spooling_refused(
    ctx: AppContext, actor: Actor, path: str | Path, *, kind: str,
    mapping: dict[str, str] | None, dry_run: bool, spool: str | Path, header: list[str],
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RefundImportSummary:
    """The wizard's import (or dry run) of a balance-refund file, ``kind`` "balances"
    or "applications": the same engine as the command line (app.services.refunds_import),
    every refused row spooled to ``spool`` as for an incident list."""
    runs = {"balances": import_balances, "applications": import_applications}
    if kind not in runs:
        raise ValueError(f"not a refund file kind: {kind!r}")
    with RefusedRowsFile(spool, header) as refused:
        return runs[kind](ctx, actor, path, mapping=mapping, dry_run=dry_run,
                          on_refused=refused.add, progress=progress, cancel=cancel)


def save_refused_rows(ctx: AppContext, actor: Actor, spool: str | Path, target: str | Path, *,
                      rows: int, source: str, batch_id: int | None = None) -> Path:
    """Copy the spooled refused rows where the operator chose, and record it (the
    trail says who took personal data out of the programme, and where)."""
    target = Path(target)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        require_role(actor, Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
        audit.record(session, actor, now, "import.refused_rows_saved", "import_batch", batch_id,
                     after={"rows": rows, "file": target.name, "source": source})
        _copy_into_place(Path(spool), target)  # before the commit: no file, no record
    return target


def _copy_into_place(source: Path, target: Path) -> None:
    """Copy beside the target first, so a failed copy never leaves half a file."""
    with written_into_place(target) as temp:
        shutil.copyfile(source, temp)
