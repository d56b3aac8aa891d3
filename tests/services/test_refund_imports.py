"""Closing balances and applications imported as the spec says: every row accounted
for, all or nothing, idempotent, and each application in exactly one state."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.roles import SYSTEM_ACTOR
from app.importers.textfile import FileRefused
from app.services import intake
from app.services.refunds_import import import_applications, import_balances
from app.storage.models import AuditEvent, RefundApplication, RefundMember
from tests.services.helpers import incident, victim
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)


@pytest.fixture
def late_clock(clock):
    clock.advance(days=200)  # March 2020: applications up to the deadline and after
    return clock


def balances(tmp_path, rows, name="balances.csv", encoding="utf-8"):
    return write_csv(tmp_path / name, BALANCE_HEADER, rows, encoding)


def apps(tmp_path, rows, name="applications.csv"):
    return write_csv(tmp_path / name, APPLICATION_HEADER, rows)


def count(ctx, model) -> int:
    with ctx.db.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def states(ctx) -> dict[str, str]:
    with ctx.db.read() as session:
        return dict(session.execute(select(RefundApplication.application_id,
                                           RefundApplication.state)).all())


def test_balances_every_row_accounted_for_and_idempotent(ctx, late_clock, tmp_path):
    path = balances(tmp_path, [member("M1", 5000), member("M2", "1,200円"), member("M1", 5000),
                               member("M2", 999), member("M3", "abc"), member("M4", 0)],
                    encoding="cp932")
    first = import_balances(ctx, SYSTEM_ACTOR, path)
    assert (first.read, first.accepted, first.duplicate, first.conflict, first.rejected) == \
        (6, 3, 1, 1, 1)
    assert first.encoding == "cp932" and first.balance_accepted == 6200
    again = import_balances(ctx, SYSTEM_ACTOR, path)
    assert (again.accepted, again.duplicate, again.conflict, again.rejected) == (0, 4, 1, 1)
    assert count(ctx, RefundMember) == 3


def test_english_headers_in_another_order(ctx, late_clock, tmp_path):
    path = write_csv(tmp_path / "en.csv", ["balance", "member_id", "fraud charge balance"],
                     [["300", "E1", "100"]])
    assert import_balances(ctx, SYSTEM_ACTOR, path).accepted == 1


def test_a_file_without_the_balance_column_is_refused_whole(ctx, late_clock, tmp_path):
    path = write_csv(tmp_path / "bad.csv", ["会員ID", "氏名"], [["M1", "山田"]])
    with pytest.raises(FileRefused) as refused:
        import_balances(ctx, SYSTEM_ACTOR, path)
    assert "残高" in refused.value.ja and "balance" in refused.value.en


def test_fraud_part_above_the_balance_is_rejected(ctx, late_clock, tmp_path):
    summary = import_balances(ctx, SYSTEM_ACTOR, balances(tmp_path, [member("M1", 100, 200)]))
    assert summary.rejected == 1
    assert "不正チャージ由来残高" in summary.refused[0].reasons[0]


def test_dry_run_writes_nothing(ctx, late_clock, tmp_path):
    summary = import_balances(ctx, SYSTEM_ACTOR, balances(tmp_path, [member("M1", 100)]),
                              dry_run=True)
    assert summary.accepted == 1 and count(ctx, RefundMember) == 0


def test_a_failure_late_in_the_file_leaves_nothing(ctx, late_clock, tmp_path, monkeypatch):
    from app.services import refunds_import

    monkeypatch.setattr(refunds_import, "CHUNK", 2)
    rows = [member(f"M{i}", 100) for i in range(5)]
    calls = iter(range(100))

    def cancel():
        return next(calls) == 2

    with pytest.raises(refunds_import.ImportCancelled):
        import_balances(ctx, SYSTEM_ACTOR, balances(tmp_path, rows), cancel=cancel)
    assert count(ctx, RefundMember) == 0


def test_each_state_of_the_table(ctx, late_clock, tmp_path):
    # A compensation victim with a debit charge case: member C1 (no fraud part given)
    # and C2 (the file says the fraud part).
    for member_id in ("C1", "C2"):
        intake.take_phone_intake(ctx, SYSTEM_ACTOR, victim(member_id=member_id,
                                                           phone="03-0000-0000"), incident())
    import_balances(ctx, SYSTEM_ACTOR, balances(tmp_path, [
        member("OK", 5000), member("WEB", 5000), member("CL", 5000, closed="2019-09-30"),
        member("ZERO", 0), member("LATE", 5000), member("C1", 10_000),
        member("C2", 10_000, 10_000), member("PH", 3000, phone="080-3333-4444"),
    ]))
    summary = import_applications(ctx, SYSTEM_ACTOR, apps(tmp_path, [
        application("A1", "OK"), application("A2", "WEB", route="Web"),
        application("A3", "CL"), application("A4", "ZERO"),
        application("A5", "LATE", applied="2020-01-11 00:00"),
        application("A6", "C1"), application("A7", "C2"),
        application("A8", "", phone="080-3333-4444", route="電話", method="払出証書"),
        application("A9", "NOBODY"),
        application("A10", "OK", route="Web"),
    ]))
    assert summary.read == summary.accepted == 10
    assert states(ctx) == {
        "A1": "confirmed", "A2": "awaiting_identity", "A3": "refused_closed",
        "A4": "refused_no_balance", "A5": "late", "A6": "held_overlap", "A7": "confirmed",
        "A8": "awaiting_identity", "A9": "unmatched", "A10": "duplicate"}
    assert summary.states["confirmed"] == 2 and summary.states["duplicate"] == 1
    with ctx.db.read() as session:
        amounts = dict(session.execute(select(RefundApplication.application_id,
                                              RefundApplication.refundable_amount)).all())
        decided = session.execute(select(func.count()).where(
            AuditEvent.action == "refund.application")).scalar_one()
    assert amounts["A7"] == 0 and amounts["A1"] == 5000 and amounts["A9"] is None
    assert decided == 10


def test_a_member_applying_twice_by_two_routes_gets_one_standing(ctx, late_clock, tmp_path):
    import_balances(ctx, SYSTEM_ACTOR, balances(tmp_path, [member("M1", 5000)]))
    import_applications(ctx, SYSTEM_ACTOR, apps(tmp_path, [application("APP-1", "M1")], "a.csv"))
    second = import_applications(ctx, SYSTEM_ACTOR, apps(tmp_path, [
        application("WEB-1", "", route="フォーム", applied="2019-11-03 09:00")], "w.csv"))
    assert states(ctx) == {"APP-1": "confirmed", "WEB-1": "duplicate"}
    assert second.states["duplicate"] == 1


def test_applications_import_is_idempotent_and_names_a_conflict(ctx, late_clock, tmp_path):
    import_balances(ctx, SYSTEM_ACTOR, balances(tmp_path, [member("M1", 5000)]))
    path = apps(tmp_path, [application("A1", "M1")])
    import_applications(ctx, SYSTEM_ACTOR, path)
    again = import_applications(ctx, SYSTEM_ACTOR, path)
    assert (again.read, again.accepted, again.duplicate) == (1, 0, 1)
    other = import_applications(ctx, SYSTEM_ACTOR, apps(tmp_path, [
        application("A1", "M1", method="払出証書")], "b.csv"))
    assert other.conflict == 1 and "A1" in other.refused[0].reasons[0]
    assert count(ctx, RefundApplication) == 1


def test_a_bank_transfer_without_an_account_is_rejected(ctx, late_clock, tmp_path):
    row = application("A1", "M1")
    row[13] = ""
    summary = import_applications(ctx, SYSTEM_ACTOR, apps(tmp_path, [row]))
    assert summary.rejected == 1 and "口座番号" in summary.refused[0].reasons[0]
