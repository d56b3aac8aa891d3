"""What the faster refund import keeps: chunks of look-ups by driver SQL find members by
member ID, phone or e-mail (one member only) across chunks; the dates read back decide
as stored; the audit chain holds an event per application and the batches', intact;
a cancel during the applications leaves nothing; a re-import changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.roles import SYSTEM_ACTOR
from app.services import audit_log, refunds_import
from app.services.refunds_import import import_applications, import_balances
from app.storage.models import AuditEvent, RefundApplication, RefundMember
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)


@pytest.fixture
def late_clock(clock):
    clock.advance(days=200)
    return clock


def _states(ctx) -> dict[str, str]:
    with ctx.db.read() as session:
        return dict(session.execute(select(RefundApplication.application_id,
                                           RefundApplication.state)).all())


def _count(ctx, model, *where) -> int:
    with ctx.db.read() as session:
        return session.execute(select(func.count()).select_from(model).where(*where)
                               ).scalar_one()


def test_members_found_by_id_phone_or_mail_across_chunks(ctx, late_clock, tmp_path,
                                                         monkeypatch):
    monkeypatch.setattr(refunds_import, "CHUNK", 3)  # look-ups span several chunks
    members = [member(f"M{i}", 1000 + i, phone=f"090-0000-{i:04d}", email=f"m{i}@ex.jp")
               for i in range(10)]
    members += [member("TWIN1", 500, phone="080-9999-0000"),
                member("TWIN2", 500, phone="080-9999-0000"),
                member("BORN", 700, phone="080-7777-0000", birth="1970-05-05")]
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER, members))
    rows = [application(f"A{i}", f"M{i}", phone=f"090-0000-{i:04d}") for i in range(4)]
    rows += [application("BYPHONE", "", route="Web", phone="090-0000-0007"),
             application("BYMAIL", "", phone="", email="M8@EX.JP"),
             application("TWIN", "", phone="080-9999-0000"),
             application("BORN-1", "BORN", phone="080-7777-0000", birth="1971-05-05"),
             application("AGAIN", "M1", route="Web", phone="090-0000-0001")]
    summary = import_applications(ctx, SYSTEM_ACTOR,
                                  write_csv(tmp_path / "a.csv", APPLICATION_HEADER, rows))
    assert summary.read == summary.accepted == 9
    states = _states(ctx)
    assert [states[f"A{i}"] for i in range(4)] == ["confirmed"] * 4
    assert states["BYPHONE"] == "awaiting_identity"  # found; a web form's application
    assert states["BYMAIL"] == "confirmed"  # the e-mail matched as folded
    assert states["TWIN"] == "unmatched"  # two members have that phone
    assert states["BORN-1"] == "awaiting_identity"  # the birth dates differ
    assert states["AGAIN"] == "duplicate"  # M1's earlier application, another chunk
    with ctx.db.read() as session:
        refs = dict(session.execute(select(RefundApplication.application_id,
                                           RefundMember.member_id)
                                    .join(RefundMember,
                                          RefundMember.id == RefundApplication.member_ref)
                                    ).all())
    assert refs["BYPHONE"] == "M7" and refs["BYMAIL"] == "M8" and "TWIN" not in refs


def test_the_chain_holds_each_application_and_stays_intact(ctx, late_clock, tmp_path):
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                                                 [member(f"M{i}", 100) for i in range(5)]))
    path = write_csv(tmp_path / "a.csv", APPLICATION_HEADER,
                     [application(f"A{i}", f"M{i}") for i in range(5)])
    import_applications(ctx, SYSTEM_ACTOR, path)
    before = _count(ctx, AuditEvent)
    assert _count(ctx, AuditEvent, AuditEvent.action == "refund.application") == 5
    assert _count(ctx, AuditEvent, AuditEvent.action.like("refund.import_%")) == 2
    again = import_applications(ctx, SYSTEM_ACTOR, path)
    assert (again.accepted, again.duplicate) == (0, 5)
    assert _count(ctx, RefundApplication) == 5
    assert _count(ctx, AuditEvent) == before + 1  # only the second batch's own event
    report = audit_log.verify_chain(ctx)
    assert report.intact and report.count == _count(ctx, AuditEvent)


def test_a_cancel_during_the_applications_leaves_nothing(ctx, late_clock, tmp_path,
                                                        monkeypatch):
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                                                 [member(f"M{i}", 100) for i in range(6)]))
    events = _count(ctx, AuditEvent)
    monkeypatch.setattr(refunds_import, "CHUNK", 2)
    calls = iter(range(100))
    with pytest.raises(refunds_import.ImportCancelled):
        import_applications(ctx, SYSTEM_ACTOR, write_csv(
            tmp_path / "a.csv", APPLICATION_HEADER,
            [application(f"A{i}", f"M{i}") for i in range(6)]),
            cancel=lambda: next(calls) == 2)
    assert _count(ctx, RefundApplication) == 0 and _count(ctx, AuditEvent) == events
    assert audit_log.verify_chain(ctx).intact
