"""A printable case record (PDF): the victim, the incidents, the payout details masked,
the letters and the timeline in words (app.exports.case_record_pdf).

The record holds personal data, so it is an export like the others of personal data
(app.services.audit_log.export_events, the payout lists): a supervisor or an
administrator, with a fresh authenticator code checked in the transaction that records
the export (``require_exporter``); refused codes count toward the lock. The PDF is
drawn into an owner-only temporary file beside the target first, with no write lock
held, and takes the target's name only once the code is accepted: a refusal leaves
no file.
"""

from __future__ import annotations

from pathlib import Path

from app.core.files import Staging
from app.domain.roles import Actor, Role
from app.services import audit
from app.services.context import AppContext, confirmed_actor, get_or_404, require_role
from app.services.records import case_view
from app.services.second_factor import counting_step_up_failures, require_exporter
from app.storage.models import Case


def export_case_record(ctx: AppContext, actor: Actor, case_id: int, out: str | Path, *,
                       second_factor: str | None = None) -> int:
    """Write the record of case ``case_id`` to ``out`` (a FileOut at the desk); returns
    its page count. Audited as ``case.record_exported`` on the case's timeline."""
    from app.exports.case_record_pdf import write_pdf

    out = Path(out)
    now = ctx.clock.now()
    with ctx.db.read() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, Role.SUPERVISOR, Role.ADMIN)  # before anything is drawn
        case = get_or_404(session, Case, case_id, "案件", "Case")
        view = case_view(session, case, full=True)
    with Staging() as staging:  # owner-only, and no leftover after a crash
        temp = staging.new(out)
        pages = write_pdf(view, temp, printed_at=now, printed_by=actor.login)
        with counting_step_up_failures(ctx, actor), ctx.db.write() as session:
            actor = require_exporter(session, actor, second_factor, now)
            audit.record(session, actor, now, "case.record_exported", "case", case_id,
                         case_id=case_id, after={"file": out.name, "pages": pages})
            staging.place(temp)  # before the commit: a failed commit is reported
    return pages
