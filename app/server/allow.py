"""The services a desk may call through the server: nothing else is reachable.

``read`` services run as ``service(ctx, *args)``, ``write`` services as
``service(ctx, actor, *args)`` with the actor bound from the session. ``roles``
narrows who may call at all (the services check again, inside their transaction);
None is every signed-in operator. ``files`` names the parameters that are files on
the desk (app.services.gateway.FileIn / FileOut): an upload the service reads, or a
spool path it writes for the desk to download (app.server.files). Those parameters
take nothing else, so a desk never names a path on the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.domain.roles import Role
from app.server.files import IN, OUT, OUT_FOLDER
from app.services import (
    audit_log,
    case_flags,
    case_record,
    case_search,
    cases,
    checkpoints,
    dashboard,
    import_errors,
    imports,
    intake,
    letters,
    operator_admin,
    operators,
    outreach,
    payout_details,
    payouts,
    people,
    queue,
    reconcile,
    refunds,
    refunds_import,
    refunds_intake,
    refunds_overlap,
    refunds_stats,
    second_factor,
    sessions,
    settings,
    stats,
    suspicion,
    victims,
)
from app.services.gateway import service_name

READ, WRITE = "read", "write"
ANYONE = None
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class Entry:
    service: Callable[..., Any]
    kind: str
    roles: frozenset[Role] | None = ANYONE
    files: dict[str, str] = field(default_factory=dict)  # parameter -> IN, OUT, OUT_FOLDER


_ENTRIES = [
    # Lists, the case, the queue (every role works cases).
    Entry(case_search.list_cases, READ),
    Entry(case_search.numbers_near, READ),
    Entry(case_flags.case_warnings, READ),
    Entry(cases.get_case, WRITE),
    Entry(cases.find_case_id, READ),
    Entry(cases.move_case, WRITE),
    Entry(cases.add_note, WRITE),
    Entry(victims.update_victim, WRITE),
    Entry(victims.reveal_payout, WRITE),
    Entry(intake.find_similar_victims, READ),
    # A person's page in both programmes (from a case, or an application).
    Entry(people.person_for_case, READ),
    Entry(people.person_for_application, READ),
    Entry(intake.take_phone_intake, WRITE),
    Entry(queue.current_hold, READ),
    Entry(queue.list_queue, READ),
    Entry(queue.count_queue, READ),
    Entry(queue.list_no_contact, READ),
    Entry(queue.letter_due, READ),
    Entry(queue.next_case, WRITE),
    Entry(queue.release, WRITE),
    Entry(queue.mark_unreachable_overdue, WRITE),
    Entry(outreach.record_attempt, WRITE),
    Entry(payout_details.set_payout_details, WRITE),
    Entry(dashboard.dashboard, READ),
    Entry(dashboard.deadline_list, READ),
    Entry(settings.get, READ),
    Entry(second_factor.code_required, READ),
    Entry(second_factor.remaining_recovery_codes, READ),
    Entry(second_factor.record_recovery_codes_kept, WRITE),
    Entry(letters.list_batches, READ),
    Entry(letters.batch_letters, READ),
    Entry(letters.refund_letters_due, READ),
    Entry(letters.mark_mailed, WRITE),
    # Money and approvals: supervisors and administrators.
    Entry(suspicion.waiting_for_approval, WRITE, SUPERVISORS),
    Entry(suspicion.list_suspicious, WRITE, SUPERVISORS),
    Entry(suspicion.flags_for_case, READ),
    Entry(payouts.list_batches, READ),
    Entry(payouts.get_batch, READ),
    Entry(payouts.batch_items, READ),
    Entry(payouts.check_sender, READ),
    Entry(payouts.earliest_transfer_date, READ),
    Entry(payouts.waiting_for_transfer, READ),
    Entry(payouts.card_issuers_waiting, READ),
    Entry(payouts.nanaco_waiting, READ),
    Entry(payouts.pending_requests, READ),
    Entry(payouts.holder_mismatch_for_case, READ),
    Entry(payouts.preview_batch, WRITE, SUPERVISORS),
    Entry(payouts.build_batch, WRITE, SUPERVISORS),
    Entry(payouts.release_batch, WRITE, SUPERVISORS),
    Entry(payouts.cancel_batch, WRITE, SUPERVISORS),
    Entry(payouts.mark_sent, WRITE, SUPERVISORS),
    Entry(payouts.record_results, WRITE, SUPERVISORS),
    Entry(payouts.confirm_request, WRITE, SUPERVISORS),
    Entry(payouts.withdraw_request, WRITE, SUPERVISORS),
    # The audit trail holds personal data.
    Entry(audit_log.action_names, READ, SUPERVISORS),
    Entry(audit_log.count_events, WRITE, SUPERVISORS),
    Entry(audit_log.list_events, WRITE, SUPERVISORS),
    Entry(audit_log.verify_chain, READ, SUPERVISORS),
    # Accounts, settings and sessions: administrators.
    Entry(operators.list_operators, READ, ADMINS),
    # (Adding an operator and resetting one's password or authenticator: only through
    # operator_admin below, behind a fresh code; the bare services have no step-up.)
    # The window's operator management (a fresh code before each act).
    Entry(operator_admin.add, WRITE, ADMINS),
    Entry(operator_admin.reset_password, WRITE, ADMINS),
    Entry(operator_admin.reset_second_factor, WRITE, ADMINS),
    Entry(operator_admin.set_active, WRITE, ADMINS),
    Entry(settings.change_many, WRITE, ADMINS),
    Entry(sessions.list_sessions, WRITE, ADMINS),
    Entry(sessions.end_session, WRITE, ADMINS),
    # Files on the desk: uploads read, downloads written (the same roles and step-up
    # codes as in process: the services check them, inside their transaction).
    Entry(imports.import_incidents, WRITE, files={"path": IN}),
    Entry(import_errors.import_spooling_refused, WRITE, files={"path": IN, "spool": OUT}),
    Entry(import_errors.import_refunds_spooling_refused, WRITE,
          files={"path": IN, "spool": OUT}),
    Entry(import_errors.save_refused_rows, WRITE, files={"spool": IN, "target": OUT}),
    Entry(case_record.export_case_record, WRITE, SUPERVISORS, files={"out": OUT}),
    Entry(letters.produce_batch, WRITE, files={"out": OUT, "per_case_dir": OUT_FOLDER}),
    Entry(payouts.export_batch, WRITE, SUPERVISORS, files={"out": OUT}),
    Entry(payouts.card_cancellation_list, WRITE, SUPERVISORS, files={"out": OUT}),
    Entry(payouts.nanaco_list, WRITE, SUPERVISORS, files={"out": OUT}),
    Entry(audit_log.export_events, WRITE, SUPERVISORS, files={"out": OUT}),
    Entry(refunds_import.import_balances, WRITE, files={"path": IN}),
    Entry(refunds_import.import_applications, WRITE, files={"path": IN}),
    # What the payouts page loads before an export (as its parts above), and the
    # dashboard's refund figures (counts and sums, no personal data).
    Entry(payouts.page_data, READ),
    Entry(payouts.build_preview, WRITE, SUPERVISORS),
    Entry(refunds_stats.figures, READ),
    # The balance-refund programme's decisions (app.ui.refunds_page)
    # Its work lists and the people in both programmes; every role decides identity and
    # unmatched applications (the services check again), late and overlap decisions are
    # a supervisor's with a fresh code; the 払出証書 rail and a new method after a return.
    Entry(refunds.work_list, READ),
    Entry(refunds.work_list_counts, READ),
    Entry(refunds.get_application, READ),
    # The closing-balance members an unmatched application may be matched to, and the
    # 払出証書 rail as the page lists it.
    Entry(refunds.find_members, READ),
    Entry(refunds.postal_list, READ),
    Entry(refunds.postal_counts, READ),
    Entry(refunds_overlap.both_programmes, READ),
    Entry(refunds_intake.take_phone_application, WRITE),
    Entry(refunds.match_member, WRITE),
    Entry(refunds.confirm_identity, WRITE),
    Entry(refunds.refuse, WRITE),
    Entry(refunds.accept_late, WRITE, SUPERVISORS),
    Entry(refunds.settle_overlap, WRITE, SUPERVISORS),
    Entry(refunds.postal_request_list, WRITE, SUPERVISORS, files={"out": OUT}),
    Entry(refunds.postal_request_list_again, WRITE, SUPERVISORS, files={"out": OUT}),
    Entry(refunds.postal_lists, READ, SUPERVISORS),
    Entry(refunds.postal_issued, WRITE),
    Entry(refunds.postal_cashed, WRITE),
    Entry(refunds.postal_returned, WRITE),
    Entry(refunds.change_method, WRITE),
    # The command line (app.commands): `hosho --server URL ...` calls what the window
    # calls (above) and these; its files cross as the window's do (uploads, downloads
    # into the desk's path). Operator accounts: operator_admin above, with a code.
    Entry(stats.programme_stats, READ),
    Entry(letters.find_letter, READ),
    Entry(letters.alignment_sheet, READ, files={"out": OUT}),
    Entry(reconcile.reconcile, READ, SUPERVISORS),
    Entry(settings.change, WRITE, ADMINS),
    Entry(checkpoints.verify_given, READ, SUPERVISORS),
    Entry(checkpoints.head, WRITE, ADMINS),
    Entry(checkpoints.record, WRITE, ADMINS),
]

ALLOWED: dict[str, Entry] = {service_name(e.service): e for e in _ENTRIES}

# Writes (they take the actor) that change nothing a desk shows: no live event.
UNCHANGING = frozenset(service_name(s) for s in (
    cases.get_case, victims.reveal_payout, suspicion.waiting_for_approval,
    suspicion.list_suspicious, payouts.preview_batch, audit_log.count_events,
    audit_log.list_events, sessions.list_sessions, second_factor.record_recovery_codes_kept,
    payouts.build_preview, checkpoints.head))
