"""The tables. Money columns are integer yen; times are UTC-aware.

Rows never leave the services as live ORM objects: services turn them into
plain records (``app.services.views``) before returning.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy import text as sa_text
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from app.storage.types import UTCDateTime

# Alembic on SQLite rebuilds tables in batch mode, which needs every
# constraint to have a stable name from the first revision on.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def _utc(nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _fk(target: str, nullable: bool = True, index: bool = True) -> Column:
    return Column(Integer, ForeignKey(target), nullable=nullable, index=index)


class Operator(SQLModel, table=True):
    __tablename__ = "operator"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    display_name: str = Field(sa_column=Column(String(100), nullable=False))
    role: str = Field(sa_column=Column(String(20), nullable=False))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    active: bool = True
    must_change_password: bool = False
    created_at: datetime = Field(sa_column=_utc())
    # Sign-in defences (app.services.operators, app.services.second_factor).
    password_changed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    failed_count: int = Field(default=0, sa_column=Column(Integer, nullable=False,
                                                          server_default="0"))
    lock_count: int = Field(default=0, sa_column=Column(Integer, nullable=False,
                                                        server_default="0"))
    locked_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    # Sealed under the centre server's key file when one is set (second_factor.seal).
    totp_secret: str | None = Field(default=None, sa_column=Column(String(255)))
    totp_confirmed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    # The last accepted TOTP time step: a code is never accepted twice.
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger))
    # Raised by a lock and by an administrator's reset: a session (an Actor) signed in
    # under an older value may no longer act (app.services.context.confirmed_actor).
    signin_epoch: int = Field(default=0, sa_column=Column(Integer, nullable=False,
                                                          server_default="0"))


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins under a name no operator has: counted and locked exactly as an
    operator's own (app.services.operators), so that the answers reveal no name."""

    __tablename__ = "signin_throttle"

    login: str = Field(sa_column=Column(String(64), primary_key=True))
    failed_count: int = Field(default=0, sa_column=Column(Integer, nullable=False,
                                                          server_default="0"))
    lock_count: int = Field(default=0, sa_column=Column(Integer, nullable=False,
                                                        server_default="0"))
    locked_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class RecoveryCode(SQLModel, table=True):
    """One-time codes for a lost phone, stored hashed (argon2id)."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(sa_column=_fk("operator.id", nullable=False))
    code_hash: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = Field(sa_column=_utc())
    used_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class Victim(SQLModel, table=True):
    __tablename__ = "victim"

    id: int | None = Field(default=None, primary_key=True)
    member_id: str | None = Field(default=None, sa_column=Column(String(64), index=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    name_kana: str | None = Field(default=None, sa_column=Column(String(200)))
    name_key: str = Field(sa_column=Column(String(200), nullable=False, index=True))
    kana_key: str = Field(default="", sa_column=Column(String(200), nullable=False, index=True))
    phone: str | None = Field(default=None, sa_column=Column(String(40)))
    phone_digits: str = Field(default="", sa_column=Column(String(20), nullable=False, index=True))
    email: str | None = Field(default=None, sa_column=Column(String(254)))
    email_key: str = Field(default="", sa_column=Column(String(254), nullable=False, index=True))
    postal_code: str | None = Field(default=None, sa_column=Column(String(8)))
    address: str | None = Field(default=None, sa_column=Column(Text))
    # When the victim's contact details reached us: the outreach order.
    contact_received_at: date | None = Field(default=None, index=True)
    # When phone, e-mail or address last changed: a contact changed recently
    # cannot confirm a change of where money goes.
    contact_changed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))


class Case(SQLModel, table=True):
    __tablename__ = "case_file"  # "case" is an SQL keyword
    __table_args__ = (
        UniqueConstraint("victim_id", "channel", name="uq_case_file_victim_channel"),
        CheckConstraint("claimed_amount >= 0", name="claimed_not_negative"),
        CheckConstraint(
            "verified_amount IS NULL OR verified_amount > 0", name="verified_positive"
        ),
        # Four eyes (migration 0016): the approver is never the verifier.
        CheckConstraint("approved_by IS NULL OR verified_by IS NULL "
                        "OR approved_by <> verified_by", name="four_eyes_approval"),
        Index("ix_case_file_channel_status", "channel", "status"),
        # Covers the dashboard's GROUP BY channel, status with its sums (app.services.dashboard).
        Index("ix_case_file_figures", "channel", "status", "claimed_amount", "verified_amount",
              "approved_amount", "paid_amount"),
        # The dashboard's reminder and late-payment counts: one range per state.
        Index("ix_case_file_status_updated", "status", "updated_at"),
        Index("ix_case_file_status_approved", "status", "approved_at"),
        # The case list: a channel/state filter read in case-number order, and the
        # sort by claimed amount, each served by an index at a million cases.
        Index("ix_case_file_list_filter", "channel", "status", "case_number"),
        Index("ix_case_file_claimed_amount", "claimed_amount", "id"),
        # The parent key of the rails' claims (refund_item, payout_request): see below.
        Index("uq_case_file_id_rail", "id", "payout_rail", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(sa_column=Column(String(16), unique=True, nullable=False))
    victim_id: int = Field(sa_column=_fk("victim.id", nullable=False))
    channel: str = Field(sa_column=Column(String(20), nullable=False))
    status: str = Field(sa_column=Column(String(20), nullable=False, index=True))
    held_from: str | None = Field(default=None, sa_column=Column(String(20)))
    claimed_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    verified_amount: int | None = Field(default=None, sa_column=Column(BigInteger))
    approved_amount: int | None = Field(default=None, sa_column=Column(BigInteger))
    paid_amount: int | None = Field(default=None, sa_column=Column(BigInteger))
    verified_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    verified_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    approved_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    approved_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    amount_override_reason: str | None = Field(default=None, sa_column=Column(Text))
    status_reason: str | None = Field(default=None, sa_column=Column(Text))
    merged_into_id: int | None = Field(default=None, sa_column=_fk("case_file.id", index=False))
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc(index=True))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    # The one payout rail (transfer, card, nanaco) holding the case, while a transfer or
    # request for it is live (and after it paid): one value, so one rail at a time.
    payout_rail: str | None = Field(default=None, sa_column=Column(String(10)))


class ImportBatch(SQLModel, table=True):
    __tablename__ = "import_batch"

    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(sa_column=Column(String(255), nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    encoding: str = Field(sa_column=Column(String(20), nullable=False))
    rows_read: int = 0
    accepted: int = 0
    duplicate: int = 0
    conflict: int = 0
    rejected: int = 0
    victims_created: int = 0
    cases_created: int = 0
    amount_accepted: int = Field(default=0, sa_column=Column(BigInteger, nullable=False,
                                                             server_default="0"))
    operator_id: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    created_at: datetime = Field(sa_column=_utc())


class Incident(SQLModel, table=True):
    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(sa_column=_fk("case_file.id", nullable=False))
    # Identifies the incident within its source; a second row with the same id
    # is a duplicate (same content) or a conflict (different content).
    report_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    # Per-field fingerprints (8 hex digits a field) to name what differs in a conflict.
    content_digest: str | None = Field(default=None, sa_column=Column(String(200)))
    occurred_at: datetime = Field(sa_column=_utc())
    amount: int = Field(sa_column=Column(BigInteger, CheckConstraint("amount > 0",
                                                                       name="amount_positive"),
                                          nullable=False))
    card_issuer: str | None = Field(default=None, sa_column=Column(String(100)))
    card_last4: str | None = Field(default=None, sa_column=Column(String(4)))
    merchant: str | None = Field(default=None, sa_column=Column(String(200)))
    note: str | None = Field(default=None, sa_column=Column(Text))
    source: str = Field(sa_column=Column(String(20), nullable=False))  # import / phone / demo
    import_batch_id: int | None = Field(default=None, sa_column=_fk("import_batch.id"))
    created_at: datetime = Field(sa_column=_utc())


class OutreachAttempt(SQLModel, table=True):
    __tablename__ = "outreach_attempt"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(sa_column=_fk("case_file.id", nullable=False))
    operator_id: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    at: datetime = Field(sa_column=_utc())
    method: str = Field(sa_column=Column(String(10), nullable=False))
    outcome: str = Field(sa_column=Column(String(20), nullable=False))
    call_back_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    note: str | None = Field(default=None, sa_column=Column(Text))


class PayoutDetail(SQLModel, table=True):
    """Where the money goes for one case. History lives in the audit trail."""

    __tablename__ = "payout_detail"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(sa_column=Column(Integer, ForeignKey("case_file.id"), unique=True,
                                          nullable=False))
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    bank_code: str | None = Field(default=None, sa_column=Column(String(4)))
    bank_name: str | None = Field(default=None, sa_column=Column(String(100)))
    branch_code: str | None = Field(default=None, sa_column=Column(String(3)))
    branch_name: str | None = Field(default=None, sa_column=Column(String(100)))
    account_type: str | None = Field(default=None, sa_column=Column(String(10)))
    account_number: str | None = Field(default=None, sa_column=Column(String(7), index=True))
    holder_kana: str | None = Field(default=None, sa_column=Column(String(100)))
    nanaco_number: str | None = Field(default=None, sa_column=Column(String(16)))
    card_issuer: str | None = Field(default=None, sa_column=Column(String(100)))
    card_last4: str | None = Field(default=None, sa_column=Column(String(4)))
    billing_confirmation_date: date | None = None
    payment_date: date | None = None
    updated_at: datetime = Field(sa_column=_utc())
    # When an existing destination was last replaced by another (not the first entry):
    # a late change before approval is flagged (app.services.suspicion).
    changed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class Letter(SQLModel, table=True):
    """A letter produced: a compensation case's or a balance-refund application's, never
    both (0017). A refund application gets each kind of letter once, enforced here: once
    per application and kind, except a payment notice for a 払出証書, which is once per
    certificate (an expired one re-issued is a new certificate, and a new notice)."""

    __tablename__ = "letter"
    __table_args__ = (
        CheckConstraint("(case_id IS NULL) <> (application_ref IS NULL)", name="one_programme"),
        CheckConstraint("postal_order_id IS NULL OR application_ref IS NOT NULL",
                        name="postal_order_is_a_refunds"),
        Index("uq_letter_refund_once", "application_ref", "kind", unique=True,
              sqlite_where=sa_text("application_ref IS NOT NULL AND postal_order_id IS NULL"),
              postgresql_where=sa_text("application_ref IS NOT NULL AND postal_order_id IS NULL")),
        Index("uq_letter_postal_order_once", "postal_order_id", "kind", unique=True,
              sqlite_where=sa_text("postal_order_id IS NOT NULL"),
              postgresql_where=sa_text("postal_order_id IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, sa_column=_fk("case_file.id"))
    application_ref: int | None = Field(default=None, sa_column=_fk("refund_application.id",
                                                                    index=False))
    postal_order_id: int | None = Field(default=None, sa_column=_fk("postal_order.id",
                                                                    index=False))
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    code: str = Field(sa_column=Column(String(16), unique=True, nullable=False))
    file_sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    operator_id: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    created_at: datetime = Field(sa_column=_utc())
    mailed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    batch_id: int | None = Field(default=None, sa_column=_fk("letter_batch.id"))
    pages: int | None = None
    first_page: int | None = None  # where this letter starts in its batch PDF


class LetterBatch(SQLModel, table=True):
    """One run of the letters page or `hosho letters`: recorded only when complete."""

    __tablename__ = "letter_batch"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    operator_id: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    created_at: datetime = Field(sa_column=_utc())
    out_path: str = Field(sa_column=Column(Text, nullable=False))
    per_case: bool = False
    letters: int = 0
    pages: int = 0
    refused: int = 0
    file_sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    mailed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    mailed_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))


class Payment(SQLModel, table=True):
    """Money (or points, or a cancelled charge) delivered. One per case, ever."""

    __tablename__ = "payment"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(sa_column=Column(Integer, ForeignKey("case_file.id"), unique=True,
                                          nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, CheckConstraint("amount > 0",
                                                                       name="amount_positive"),
                                          nullable=False))
    method: str = Field(sa_column=Column(String(20), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(100)))
    paid_at: datetime = Field(sa_column=_utc(index=True))
    operator_id: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))


class CaseNote(SQLModel, table=True):
    __tablename__ = "case_note"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(sa_column=_fk("case_file.id", nullable=False))
    operator_id: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    at: datetime = Field(sa_column=_utc())
    text: str = Field(sa_column=Column(Text, nullable=False))


class AuditEvent(SQLModel, table=True):
    """Who did what, when, and what changed. Written in the same transaction."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc(index=True))
    operator_id: int | None = Field(default=None, sa_column=_fk("operator.id"))
    actor_login: str = Field(sa_column=Column(String(64), nullable=False))
    action: str = Field(sa_column=Column(String(40), nullable=False, index=True))
    entity: str = Field(sa_column=Column(String(30), nullable=False))
    entity_id: int | None = None
    case_id: int | None = Field(default=None, sa_column=_fk("case_file.id"))
    before: str | None = Field(default=None, sa_column=Column(Text))  # JSON
    after: str | None = Field(default=None, sa_column=Column(Text))  # JSON
    reason: str | None = Field(default=None, sa_column=Column(Text))
    # The chain (app.domain.audit_chain): position, the previous event's hash, this one's.
    # Null only for an instant: rows inserted in bulk are chained before their commit.
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True,
                                                           index=True))
    prev_hash: str | None = Field(default=None, sa_column=Column(String(64)))
    hash: str | None = Field(default=None, sa_column=Column(String(64)))


class AuditHead(SQLModel, table=True):
    """The end of the audit chain: one row, locked by every writer (so two desks
    never chain onto the same event) and proof that no event was cut off the end."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))


class Setting(SQLModel, table=True):
    __tablename__ = "setting"

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    updated_at: datetime = Field(sa_column=_utc())


class Counter(SQLModel, table=True):
    """Named sequences (case numbers) reserved in blocks inside a transaction."""

    __tablename__ = "counter"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    value: int = Field(sa_column=Column(BigInteger, nullable=False))


class CaseQueue(SQLModel, table=True):
    """Where a case stands in the outreach queue: who holds it, until when, the
    failed attempts so far and any agreed call-back. A row exists once the case
    was first offered; no row means untouched."""

    __tablename__ = "case_queue"
    __table_args__ = (Index("ix_case_queue_letter", "letter_due", "case_id"),)

    case_id: int = Field(sa_column=Column(Integer, ForeignKey("case_file.id"), primary_key=True))
    holder_id: int | None = Field(default=None, sa_column=_fk("operator.id"))
    held_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    failed_attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False,
                                                             server_default="0"))
    call_back_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True,
                                                                       index=True))
    # Set when the failed attempts reached the limit: the case waits for a guidance letter.
    letter_due: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                             server_default=sa_false()))
    # The victim refused the guidance: not offered again.
    closed: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                         server_default=sa_false()))
    updated_at: datetime = Field(sa_column=_utc())


# -- Payouts (app.services.payouts) ------------------------------------------------
# A case is in at most one live batch or request list: the partial unique indexes
# below hold it in the database itself, on SQLite and PostgreSQL alike. An item
# stops being live when its batch is cancelled or its transfer comes back.
#
# Across the rails, the database holds "one live payout per case" with a foreign key:
# a live transfer or request carries its rail's name, and (case_id, rail) must match
# the case's own payout_rail. A case has one payout_rail, so a live transfer and a live
# card or nanaco request for the same case cannot both exist, and the case's rail
# cannot change while anything live (a paid transfer included) holds it.

RAIL_TRANSFER, RAIL_CARD, RAIL_NANACO = "transfer", "card", "nanaco"


def _rail_claim(table: str, rails: str) -> tuple:
    return (
        # "rail IS NOT NULL" spelt out: a CHECK that comes out NULL passes, and a live
        # row with no rail would escape the foreign key below.
        CheckConstraint("(live AND rail IS NOT NULL AND rail IN (" + rails + ")) "
                        "OR (NOT live AND rail IS NULL)", name="rail_when_live"),
        ForeignKeyConstraint(["case_id", "rail"], ["case_file.id", "case_file.payout_rail"],
                             name=f"fk_{table}_rail_claim"),
        *_rail_flags(),
    )


def _rail_flags(done_stays_live: bool = True) -> tuple:
    """live is a boolean (SQLite would store 'yes', false to every check and index), and
    a done transfer or request stays live: it holds its case's rail for good (0013)."""
    checks = [CheckConstraint("live IN (true, false)", name="live_is_boolean")]
    if done_stays_live:
        checks.append(CheckConstraint("result IS NULL OR (result = 'done') = live",
                                      name="done_stays_live"))
    return tuple(checks)


class RefundBatch(SQLModel, table=True):
    """A 総合振込 batch: built by one supervisor, released by another, then sent."""

    __tablename__ = "refund_batch"
    # Four eyes (migration 0016): the releaser is never the builder.
    __table_args__ = (
        CheckConstraint("released_by IS NULL OR built_by IS NULL OR released_by <> built_by",
                        name="four_eyes_release"),
    )

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(sa_column=Column(String(12), nullable=False, index=True))
    channel: str | None = Field(default=None, sa_column=Column(String(20)))
    transfer_date: date
    item_count: int = 0
    total_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False,
                                                          server_default="0"))
    built_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    built_at: datetime = Field(sa_column=_utc())
    released_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    released_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    exported_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    file_sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    sent_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    sent_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    cancelled_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    cancelled_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    cancel_reason: str | None = Field(default=None, sa_column=Column(Text))


class RefundItem(SQLModel, table=True):
    """One transfer of a batch, with the destination as it went into the file."""

    __tablename__ = "refund_item"
    __table_args__ = (
        UniqueConstraint("batch_id", "seq", name="uq_refund_item_batch_seq"),
        Index("uq_refund_item_live_case", "case_id", unique=True,
              sqlite_where=sa_text("live"), postgresql_where=sa_text("live")),
        *_rail_claim("refund_item", "'transfer'"),
        # A batch may hold both programmes: an item is a compensation case's or a balance
        # refund application's, never both, and a live refund item claims the
        # application's rail as a case item claims the case's (app.services.refund_transfers).
        CheckConstraint("(case_id IS NULL) <> (application_ref IS NULL)", name="one_programme"),
        ForeignKeyConstraint(["application_ref", "rail"],
                             ["refund_application.id", "refund_application.payout_rail"],
                             name="fk_refund_item_refund_rail_claim"),
        Index("uq_refund_item_live_application", "application_ref", unique=True,
              sqlite_where=sa_text("live"), postgresql_where=sa_text("live")),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(sa_column=_fk("refund_batch.id", nullable=False))
    case_id: int | None = Field(default=None, sa_column=_fk("case_file.id"))
    application_ref: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("refund_application.id"), index=True))
    seq: int
    amount: int = Field(sa_column=Column(BigInteger, CheckConstraint("amount > 0",
                                                                       name="amount_positive"),
                                          nullable=False))
    live: bool = Field(default=True, sa_column=Column(Boolean, nullable=False,
                                                      server_default=sa_true()))
    rail: str | None = Field(default=RAIL_TRANSFER, sa_column=Column(String(10)))
    bank_code: str = Field(sa_column=Column(String(4), nullable=False))
    branch_code: str = Field(sa_column=Column(String(3), nullable=False))
    account_type: str = Field(sa_column=Column(String(10), nullable=False))
    account_number: str = Field(sa_column=Column(String(7), nullable=False))
    holder_zengin: str = Field(sa_column=Column(String(60), nullable=False))
    result: str | None = Field(default=None, sa_column=Column(String(10)))  # done / returned
    result_reason: str | None = Field(default=None, sa_column=Column(Text))
    result_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    result_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))


class PayoutList(SQLModel, table=True):
    """A card-company cancellation list or a nanaco reinstatement list, as handed over."""

    __tablename__ = "payout_list"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(20), nullable=False))  # card_cancellation / nanaco
    card_issuer: str | None = Field(default=None, sa_column=Column(String(100)))
    item_count: int = 0
    total_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False,
                                                          server_default="0"))
    file_sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    created_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    created_at: datetime = Field(sa_column=_utc())


class PayoutRequest(SQLModel, table=True):
    """One case on a card or nanaco list, until the company confirms or refuses it."""

    __tablename__ = "payout_request"
    __table_args__ = (
        Index("uq_payout_request_live_case", "case_id", unique=True,
              sqlite_where=sa_text("live"), postgresql_where=sa_text("live")),
        *_rail_claim("payout_request", "'card', 'nanaco'"),
    )

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(sa_column=_fk("payout_list.id", nullable=False))
    case_id: int = Field(sa_column=_fk("case_file.id", nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, CheckConstraint("amount > 0",
                                                                       name="amount_positive"),
                                          nullable=False))
    live: bool = Field(default=True, sa_column=Column(Boolean, nullable=False,
                                                      server_default=sa_true()))
    rail: str | None = Field(default=None, sa_column=Column(String(10)))  # card / nanaco
    result: str | None = Field(default=None, sa_column=Column(String(10)))  # done / returned
    result_reason: str | None = Field(default=None, sa_column=Column(Text))
    result_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    result_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))


# -- The balance-refund programme (app.services.refunds) ------------------------------
# A member is one person in both programmes: refund_member.victim_id links the closing
# balance to the compensation victim with the same member ID. A refund is paid once per
# member (refund_payment.member_ref unique), and an application is on one payout rail at
# a time by the same pattern as a case: refund_application.payout_rail, and a foreign key
# (application_ref, rail) from each live 払出証書 to it.

RAIL_POSTAL = "postal"


class RefundMember(SQLModel, table=True):
    """One member's closing balance and the contact on record, from the balance file."""

    __tablename__ = "refund_member"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("fraud_charge_balance IS NULL OR "
                        "(fraud_charge_balance >= 0 AND fraud_charge_balance <= balance)",
                        name="fraud_part_within_balance"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    balance: int = Field(sa_column=Column(BigInteger, nullable=False))
    fraud_charge_balance: int | None = Field(default=None, sa_column=Column(BigInteger))
    name: str | None = Field(default=None, sa_column=Column(String(200)))
    name_kana: str | None = Field(default=None, sa_column=Column(String(200)))
    kana_key: str = Field(default="", sa_column=Column(String(200), nullable=False))
    phone: str | None = Field(default=None, sa_column=Column(String(40)))
    phone_digits: str = Field(default="", sa_column=Column(String(20), nullable=False,
                                                           index=True))
    email: str | None = Field(default=None, sa_column=Column(String(254)))
    email_key: str = Field(default="", sa_column=Column(String(254), nullable=False,
                                                        index=True))
    postal_code: str | None = Field(default=None, sa_column=Column(String(8)))
    address: str | None = Field(default=None, sa_column=Column(Text))
    birth_date: date | None = None
    closed_on: date | None = None
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    victim_id: int | None = Field(default=None, sa_column=_fk("victim.id"))
    import_batch_id: int | None = Field(default=None, sa_column=_fk("import_batch.id",
                                                                    index=False))
    created_at: datetime = Field(sa_column=_utc())


_STANDING = ("member_ref IS NOT NULL AND state NOT IN "
             "('duplicate', 'refused', 'refused_closed', 'refused_no_balance')")


class RefundApplication(SQLModel, table=True):
    """One application, by app, web form or phone, and where it stands."""

    __tablename__ = "refund_application"
    __table_args__ = (
        Index("ix_refund_application_state", "state", "applied_at"),
        # The parent key of a live 払出証書's claim on the application (see above).
        Index("uq_refund_application_id_rail", "id", "payout_rail", unique=True),
        # One standing application per member (the spec's duplicate rule), even when two
        # desks decide at once (migration 0018).
        Index("uq_refund_application_standing", "member_ref", unique=True,
              sqlite_where=sa_text(_STANDING), postgresql_where=sa_text(_STANDING)),
        CheckConstraint("payout_rail IS NULL OR payout_rail IN ('transfer', 'postal')",
                        name="known_rail"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    member_ref: int | None = Field(default=None, sa_column=_fk("refund_member.id"))
    member_id: str | None = Field(default=None, sa_column=Column(String(64)))
    route: str = Field(sa_column=Column(String(10), nullable=False))
    applied_at: datetime = Field(sa_column=_utc())
    method: str = Field(sa_column=Column(String(20), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    name_kana: str | None = Field(default=None, sa_column=Column(String(200)))
    phone: str | None = Field(default=None, sa_column=Column(String(40)))
    email: str | None = Field(default=None, sa_column=Column(String(254)))
    birth_date: date | None = None
    bank_code: str | None = Field(default=None, sa_column=Column(String(4)))
    branch_code: str | None = Field(default=None, sa_column=Column(String(3)))
    account_type: str | None = Field(default=None, sa_column=Column(String(10)))
    account_number: str | None = Field(default=None, sa_column=Column(String(7)))
    holder_kana: str | None = Field(default=None, sa_column=Column(String(100)))
    state: str = Field(sa_column=Column(String(20), nullable=False))
    state_reason: str | None = Field(default=None, sa_column=Column(Text))
    # Why a refused application was refused, as a code (app.domain.refunds.REFUSAL_REASONS;
    # 0017): the refusal letter words it. refused_closed and refused_no_balance say it by
    # their state; set for state refused.
    refusal_code: str | None = Field(default=None, sa_column=Column(String(30)))
    refundable_amount: int | None = Field(default=None, sa_column=Column(BigInteger))
    identity_how: str | None = Field(default=None, sa_column=Column(String(30)))
    decided_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    decided_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    payout_rail: str | None = Field(default=None, sa_column=Column(String(10)))
    import_batch_id: int | None = Field(default=None, sa_column=_fk("import_batch.id",
                                                                    index=False))
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))


class RefundPayment(SQLModel, table=True):
    """A refund paid: one per member, ever, whatever the route or the rail."""

    __tablename__ = "refund_payment"

    id: int | None = Field(default=None, primary_key=True)
    member_ref: int = Field(sa_column=Column(Integer, ForeignKey("refund_member.id"),
                                             unique=True, nullable=False))
    application_ref: int = Field(sa_column=Column(Integer, ForeignKey("refund_application.id"),
                                                  unique=True, nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, CheckConstraint("amount > 0",
                                                                       name="amount_positive"),
                                          nullable=False))
    rail: str = Field(sa_column=Column(String(10), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(100)))
    paid_at: datetime = Field(sa_column=_utc(index=True))
    operator_id: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))


class PostalOrderList(SQLModel, table=True):
    """A 払出証書 request list as handed to Japan Post."""

    __tablename__ = "postal_order_list"

    id: int | None = Field(default=None, primary_key=True)
    item_count: int = 0
    total_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False,
                                                          server_default="0"))
    file_sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    created_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))
    created_at: datetime = Field(sa_column=_utc())


class PostalOrder(SQLModel, table=True):
    """One 払出証書: requested, issued, then cashed, or expired and returned."""

    __tablename__ = "postal_order"
    __table_args__ = (
        Index("uq_postal_order_live_application", "application_ref", unique=True,
              sqlite_where=sa_text("live"), postgresql_where=sa_text("live")),
        CheckConstraint("(live AND rail IS NOT NULL AND rail = 'postal') "
                        "OR (NOT live AND rail IS NULL)", name="rail_when_live"),
        ForeignKeyConstraint(["application_ref", "rail"],
                             ["refund_application.id", "refund_application.payout_rail"],
                             name="fk_postal_order_rail_claim"),
        *_rail_flags(done_stays_live=False),
    )

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(sa_column=_fk("postal_order_list.id", nullable=False))
    application_ref: int = Field(sa_column=_fk("refund_application.id", nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, CheckConstraint("amount > 0",
                                                                       name="amount_positive"),
                                          nullable=False))
    live: bool = Field(default=True, sa_column=Column(Boolean, nullable=False,
                                                      server_default=sa_true()))
    rail: str | None = Field(default=RAIL_POSTAL, sa_column=Column(String(10)))
    status: str = Field(sa_column=Column(String(10), nullable=False))  # requested/issued/...
    certificate_number: str | None = Field(default=None, sa_column=Column(String(30)))
    expires_on: date | None = None
    issued_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    result_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    result_by: int | None = Field(default=None, sa_column=_fk("operator.id", index=False))


class ServerSession(SQLModel, table=True):
    """A desk's sign-in at the centre server (app.server.sessions). The token is never
    stored, only its SHA-256: it is 256 random bits, so a slow hash adds nothing.
    Kept in the database so that every server process on it agrees."""

    __tablename__ = "server_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    operator_id: int = Field(sa_column=_fk("operator.id", nullable=False))
    # The operator's sign-in epoch when this session signed in (a lock ends it).
    epoch: int = Field(sa_column=Column(Integer, nullable=False))
    # "code" or "enrol" (password accepted, second factor pending), "new_password"
    # (a reset requires one first), "active".
    stage: str = Field(sa_column=Column(String(20), nullable=False))
    client_address: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_utc())
    last_seen_at: datetime = Field(sa_column=_utc())
    ended_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    end_reason: str | None = Field(default=None, sa_column=Column(String(40)))


class ServerFailure(SQLModel, table=True):
    """A refused sign-in step at the server, by client address: throttling counts these
    (the per-account lock is operator.failed_count)."""

    __tablename__ = "server_failure"

    id: int | None = Field(default=None, primary_key=True)
    client_address: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    at: datetime = Field(sa_column=_utc(index=True))
