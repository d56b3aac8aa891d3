"""Domain values and the audit trail's events in words, in the interface's language (the
message catalog): what the window shows (app.ui.labels re-exports this) and what a
printed case record says (app.exports.case_record_pdf), worded alike."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime

from app.core.i18n import N_, _, format_moment, format_yen, one_language
from app.domain.channels import Channel, PayoutKind
from app.domain.payout import ACCOUNT_TYPES
from app.domain.reasons import reason_words
from app.domain.roles import SYSTEM_ACTOR
from app.domain.states import Status

_CHANNEL = {
    Channel.CREDIT_CHARGE: N_("Credit card charge"),
    Channel.DEBIT_CHARGE: N_("Debit card charge"),
    Channel.NANACO_CHARGE: N_("nanaco point charge"),
    Channel.UNAUTHORIZED_USE: N_("Unauthorised use"),
}
_STATUS = {
    Status.RECEIVED: N_("Received"),
    Status.CONTACTED: N_("Contacted"),
    Status.DOCUMENTS_RECEIVED: N_("Documents received"),
    Status.VERIFIED: N_("Verified"),
    Status.APPROVED: N_("Approved"),
    Status.PAYOUT_REQUESTED: N_("Payout requested"),
    Status.PAID: N_("Paid"),
    Status.CLOSED: N_("Closed"),
    Status.ON_HOLD: N_("On hold"),
    Status.UNREACHABLE: N_("Unreachable"),
    Status.REJECTED: N_("Rejected"),
    Status.MERGED: N_("Merged"),
}
_MOVES = {
    "contact": N_("Mark as contacted"),
    "mark_unreachable": N_("Mark as unreachable"),
    "receive_documents": N_("Documents received"),
    "verify": N_("Verify amount"),
    "deficiency": N_("Documents incomplete: send back"),
    "approve": N_("Approve payout"),
    "send_back": N_("Send back to documents"),
    "payout_changed": N_("Sent back: payout details changed"),
    "request_payout": N_("Request payout"),
    "withdraw_approval": N_("Withdraw approval"),
    "mark_paid": N_("Mark as paid"),
    "payout_failed": N_("Payout failed"),
    "close": N_("Close (payment notice sent)"),
    "reached": N_("Victim reached"),
    "reopen": N_("Reopen"),
    "hold": N_("Put on hold"),
    "resume": N_("Resume"),
    "reject": N_("Reject"),
    "merge": N_("Merge into another case"),
}
_MOVE_EFFECT = {
    "contact": N_("The case moves to Contacted: the victim has been given the guidance."),
    "mark_unreachable": N_("The case moves to Unreachable."),
    "receive_documents": N_("The signed claim form and the payout details are in."),
    "verify": N_("The verified amount is recorded; another person must approve it."),
    "deficiency": N_("The case goes back to Contacted and a deficiency notice is due."),
    "approve": N_("The payout is approved at the verified amount."),
    "send_back": N_("Verification is cleared and the documents are checked again."),
    "payout_changed": N_("The payout details changed after approval: verification and "
                         "approval start again."),
    "request_payout": N_("Payment is requested: card cancellation, transfer or points."),
    "withdraw_approval": N_("The approval is withdrawn; the case is verified again."),
    "mark_paid": N_("The approved amount is recorded as paid. This happens only once."),
    "payout_failed": N_("The payment failed; the case goes back to Approved."),
    "close": N_("The case is closed. Closed cases cannot move again."),
    "reached": N_("The victim was reached; outreach resumes."),
    "reopen": N_("The rejected case is reopened as Received."),
    "hold": N_("The case is parked and resumes in its present state."),
    "resume": N_("The case resumes in the state it left."),
    "reject": N_("The case is not compensated. Only a supervisor can reopen it."),
    "merge": N_("The incidents move to the other case; this case ends as Merged."),
}


def channel_label(channel: Channel) -> str:
    return _(_CHANNEL[channel])


def status_label(status: Status) -> str:
    return _(_STATUS[status])


def move_label(name: str) -> str:
    return _(_MOVES[name])


def move_effect(name: str) -> str:
    return _(_MOVE_EFFECT[name])


VICTIM_FIELDS = (
    ("name", N_("Name")), ("name_kana", N_("Kana")), ("member_id", N_("Member ID (7iD)")),
    ("phone", N_("Phone")), ("email", N_("E-mail")), ("postal_code", N_("Postal code")),
    ("address", N_("Address")),
)

_ACTIONS = {
    "refund.demo": N_("Demo balance-refund programme built"),
    "refund.phone_application": N_("Refund application taken by phone"),
    "refund.postal_issued": N_("Payment certificate issued"),
    "refund.postal_list": N_("Payment certificate request list written"),
    "refund.postal_list_again": N_("Payment certificate request list written again"),
    "second_factor.secrets_sealed": N_("Authenticator secrets encrypted"),
    "session.ended": N_("Session ended"),
    "case.open": N_("Case opened"),
    "incident.add": N_("Incident added"),
    "victim.create": N_("Victim registered"),
    "victim.update": N_("Victim details changed"),
    "payout.set": N_("Payout details set"),
    "payout.reveal": N_("Payout details shown in full"),
    "outreach.attempt": N_("Outreach attempt"),
    "case.note": N_("Note added"),
    "case.record_exported": N_("Case record printed (PDF)"),
    "case.sent_back_payout_change": N_("Sent back: payout details changed"),
    "import.batch": N_("Incident list imported"),
    "import.incidents": N_("Incidents added by an import"),
    "import.refused_rows_saved": N_("Refused rows of an import saved to a file"),
    "operator.add": N_("Operator added"),
    "operator.deactivated": N_("Operator deactivated"),
    "operator.activated": N_("Operator reactivated"),
    "operator.sign_in": N_("Signed in"),
    "operator.sign_out": N_("Signed out"),
    "operator.password_accepted": N_("Password accepted (code still to come)"),
    "operator.sign_in_failed": N_("Wrong password"),
    "operator.second_factor_failed": N_("Wrong authenticator code at sign-in"),
    "operator.step_up_failed": N_("Wrong authenticator code before an action"),
    "operator.locked": N_("Account locked after failures"),
    "operator.sign_in_locked": N_("Sign-in tried while locked"),
    "operator.sign_in_unknown": N_("Sign-in with an unknown name"),
    "operator.password_changed": N_("Password changed"),
    "operator.password_reset": N_("Password reset by an administrator"),
    "second_factor.enrolment_started": N_("Authenticator set-up started"),
    "second_factor.enrolled": N_("Authenticator set up"),
    "second_factor.recovery_code_used": N_("Recovery code used"),
    "second_factor.recovery_codes_kept": N_("Recovery codes kept"),
    "second_factor.reset": N_("Authenticator reset by an administrator"),
    "second_factor.step_up": N_("Authenticator code confirmed for an action"),
    "audit.export": N_("Audit trail exported"),
    "audit.checkpoint": N_("Audit trail checkpoint taken"),
    "setting.change": N_("Setting changed"),
    "letter.produce": N_("Letter produced"),
    "letter.batch": N_("Letter batch produced"),
    "letter.mailed": N_("Letter mailed"),
    "letter.batch_mailed": N_("Letter batch marked as mailed"),
    "outreach.unreachable_sweep": N_("Unanswered cases marked unreachable"),
    "queue.hold": N_("Taken from the outreach queue"),
    "queue.release": N_("Given back to the outreach queue"),
    "payout.batch_build": N_("Refund batch built"),
    "payout.batch_release": N_("Refund batch released"),
    "payout.batch_cancel": N_("Refund batch cancelled"),
    "payout.batch_export": N_("Transfer file written"),
    "payout.batch_sent": N_("Transfer file sent to the bank"),
    "payout.transfer_result": N_("Bank result recorded"),
    "payout.request_result": N_("Card or nanaco result recorded"),
    "payout.card_cancellation_list": N_("Card cancellation list written"),
    "payout.nanaco_list": N_("nanaco reinstatement list written"),
}

_PAYOUT_FIELDS = {
    "kind": N_("Method"), "bank_code": N_("Bank code"), "bank_name": N_("Bank"),
    "branch_code": N_("Branch code"), "branch_name": N_("Branch"),
    "account_type": N_("Account type"), "account_number": N_("Account number"),
    "holder_kana": N_("Account holder (kana)"), "nanaco_number": N_("nanaco number"),
    "card_issuer": N_("Card issuer"), "card_last4": N_("Card last 4"),
    "billing_confirmation_date": N_("Billing-confirmation date"),
    "payment_date": N_("Payment date"),
}


_ENTITIES = {
    "case": N_("Case"), "victim": N_("Victim"), "incident": N_("Incident"),
    "import_batch": N_("Import"), "letter": N_("Letter"), "letter_batch": N_("Letter batch"),
    "operator": N_("Operator"), "outreach_attempt": N_("Contact attempt"),
    "payout_detail": N_("Payout details"), "payout_request": N_("Payout list"),
    "refund_batch": N_("Refund batch"), "refund_item": N_("Refund"),
    "case_note": N_("Case note"), "setting": N_("Settings"), "audit_event": N_("Audit trail"),
    "refund": N_("Balance refund"), "postal_order_list": N_("Payment certificate list"),
}


def entity_text(entity: str, entity_id: int | None) -> str:
    """What an audit event is about, in words: 被害者 #12, 設定. A case is named by
    its case number in a column of its own, so here only as 案件."""
    name = _(_ENTITIES[entity]) if entity in _ENTITIES else entity
    return name if entity_id is None or entity == "case" else f"{name} #{entity_id}"


def action_label(action: str) -> str:
    """'case.approve' -> 支払を承認する; unknown actions are shown as they are."""
    if action in _ACTIONS:
        return _(_ACTIONS[action])
    name = action.removeprefix("case.")
    return move_label(name) if name in _MOVES else action


def payout_lines(data: dict) -> list[str]:
    return [f"{_(_PAYOUT_FIELDS.get(key, key))}: {change_value(key, value)}"
            for key, value in data.items() if value and key in _PAYOUT_FIELDS]


PAYOUT_KIND_LABELS = {
    PayoutKind.BANK_ACCOUNT: N_("Bank transfer"),
    PayoutKind.NANACO: N_("nanaco points"),
    PayoutKind.CARD_CANCELLATION: N_("Card charge cancelled"),
}
# What the timeline calls the fields an audit event records (app.services.records and
# the import); payout fields are named by _PAYOUT_FIELDS.
_CHANGE_FIELDS = {
    "status": N_("State"), "held_from": N_("State before the hold"),
    "channel": N_("Channel"), "case_number": N_("Case number"),
    "claimed_amount": N_("Claimed amount"), "verified_amount": N_("Verified amount"),
    "approved_amount": N_("Approved amount"), "paid_amount": N_("Paid amount"),
    "verified_by": N_("Verified by (operator no.)"),
    "approved_by": N_("Approved by (operator no.)"),
    "status_reason": N_("Reason"), "amount_override_reason": N_("Reason for the amount"),
    "merged_into_id": N_("Merged into (case no.)"), "incidents": N_("Number of incidents"),
    "incidents_added": N_("Incidents added"), "batch_id": N_("Batch no."),
    "source": N_("Received by"), "report_id": N_("Report ID"), "amount": N_("Amount"),
    "code": N_("Letter code"), "file": N_("File"), "pages": N_("Pages"),
    "sha256": N_("SHA-256 of the file"), "method": N_("How"), "outcome": N_("Outcome"),
    "call_back_at": N_("Call back at"), "held_until": N_("Held until"),
    "kept": N_("Kept by"), "released_cases": N_("Held cases given back"),
    "session": N_("Session no."), "desk": N_("Desk"),
    # the balance-refund programme's letters (app.services.letters, refund_letters)
    "programme": N_("Programme"), "application_id": N_("Application number"),
    "refusal": N_("Refusal reason (code)"), "refusal_reason": N_("Refusal reason"),
    "postal_order_id": N_("Postal order no."),
}
_SOURCES = {"import": N_("incident list"), "phone": N_("hotline call"), "demo": N_("demo")}
CONTACT_METHODS = {"phone": N_("By phone"), "email": N_("By e-mail"), "letter": N_("By letter")}
CONTACT_OUTCOMES = {"reached": N_("Reached"), "no_answer": N_("No answer"),
                    "wrong_number": N_("Wrong number"), "call_back": N_("Asked to call back"),
                    "refused": N_("Refused")}
LETTER_KINDS = {"guidance": N_("Guidance letter with claim form"),
                "deficiency": N_("Deficiency notice"), "payment_notice": N_("Payment notice"),
                "refund_confirmation": N_("Refund: confirmation of the amount"),
                "refund_refusal": N_("Refund: refusal with its reason"),
                "refund_payment": N_("Refund: payment notice")}
PROGRAMMES = {"compensation": N_("Compensation"), "refund": N_("Balance refund"),
              "balance_refund": N_("Balance refund")}  # as the transfer items say it
_KEPT = {"copied": N_("copying to the clipboard"), "printed": N_("printing"),
         "saved": N_("saving to a file")}
_DESKS = {"local": N_("this desk (no server)")}
_WORDS = {"method": CONTACT_METHODS, "outcome": CONTACT_OUTCOMES, "source": _SOURCES,
          "kept": _KEPT, "desk": _DESKS}
_MOMENTS = frozenset({"call_back_at", "held_until"})


def change_lines(before: dict, after: dict) -> list[str]:
    """An audit event's change in words: 状態: 受付 → 案内済, 請求額: 3,000円."""
    lines = []
    for key in sorted(set(before) | set(after)):
        name = _field_name(key, after.get(key, before.get(key)))
        if key in before and key in after:
            if before[key] == after[key]:
                continue  # a snapshot's unchanged fields are not a change
            lines.append(f"{name}: {change_value(key, before[key])} → "
                         f"{change_value(key, after[key])}")
        elif key in after:
            lines.append(f"{name}: {change_value(key, after[key])}")
    return lines


def _field_name(key: str, value: object) -> str:
    if key == "kind" and value in LETTER_KINDS:  # a letter's kind, not a payout method
        return _("Letter")
    return _(_CHANGE_FIELDS.get(key) or _PAYOUT_FIELDS.get(key) or key)


def change_value(key: str, value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key in ("status", "held_from") and value in Status._value2member_map_:
        return status_label(Status(value))
    if key == "channel" and value in Channel._value2member_map_:
        return channel_label(Channel(value))
    if key == "kind" and value in PayoutKind._value2member_map_:
        return _(PAYOUT_KIND_LABELS[PayoutKind(value)])
    if key == "kind" and value in LETTER_KINDS:
        return _(LETTER_KINDS[value])
    if key == "programme" and value in PROGRAMMES:
        return _(PROGRAMMES[value])
    if key == "account_type" and value in ACCOUNT_TYPES:
        return ACCOUNT_TYPES[value]
    if value in _WORDS.get(key, {}):
        return _(_WORDS[key][value])
    if key in _MOMENTS and isinstance(value, str):
        with contextlib.suppress(ValueError):
            return format_moment(datetime.fromisoformat(value))
    if isinstance(value, int) and (key.endswith("amount") or key == "claimed"):
        return format_yen(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def actor_text(login: str) -> str:
    """Who did it: an operator's login, or the command line's own actor in words."""
    return _("system (command line)") if login == SYSTEM_ACTOR.login else login


ROLE_LABELS = {"operator": N_("role:Operator"), "supervisor": N_("role:Supervisor"),
               "admin": N_("role:Administrator")}


def role_label(role) -> str:
    """A role in the interface's language (the English interface says "Supervisor")."""
    text = _(ROLE_LABELS[str(role)])
    return text.removeprefix("role:")


def reason_text(stored: str | None) -> str:
    """A stored reason in the interface's language: a coded one worded, a typed or an
    older one as it was written."""
    words = reason_words(stored)
    if words is None:
        return stored or ""
    return one_language(*words)
