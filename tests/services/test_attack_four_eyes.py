"""Four eyes where the services are not asked: a write straight to the database that
makes the verifier the approver, or the builder of a batch its releaser, is refused by
the database itself (migration 0016), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from app.domain.channels import Channel
from app.services import payouts
from tests.conftest import database_refuses
from tests.services.test_money_rail import approved_case


def _operator_id(staff, login: str) -> int:
    return staff[login].operator_id


def test_the_verifier_made_approver_by_sql_is_refused(ctx, staff):
    case_id = approved_case(ctx, staff, Channel.DEBIT_CHARGE)
    with database_refuses(), ctx.db.write() as session:
        session.execute(text("UPDATE case_file SET approved_by = verified_by WHERE id = :c"),
                        {"c": case_id})


def test_a_supervisor_who_verified_cannot_be_written_in_as_approver(ctx, staff):
    case_id = approved_case(ctx, staff, Channel.DEBIT_CHARGE)
    with database_refuses(), ctx.db.write() as session:
        session.execute(text("UPDATE case_file SET verified_by = :v WHERE id = :c"),
                        {"v": _operator_id(staff, "sv1"), "c": case_id})


def test_the_builder_written_in_as_releaser_is_refused(ctx, staff):
    approved_case(ctx, staff, Channel.DEBIT_CHARGE)
    batch = payouts.build_batch(ctx, staff["sv1"])
    with database_refuses(), ctx.db.write() as session:
        session.execute(text("UPDATE refund_batch SET status = 'released', released_by = "
                             "built_by WHERE id = :b"), {"b": batch.id})


def test_the_services_own_path_still_passes(ctx, staff):
    """Verified by an operator, approved by a supervisor, built and released by two."""
    from tests.services.helpers import release_by_transfer

    approved_case(ctx, staff, Channel.DEBIT_CHARGE)
    released = release_by_transfer(ctx, staff)
    assert released.status == "released"
