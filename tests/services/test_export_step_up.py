"""Exports of personal data or payment files are supervisor moves with a fresh
authenticator code (step-up), checked in the transaction that records them: the
transfer file, the card-company and nanaco lists, the auditor's export of the trail.
Refused for an operator, refused without a code or with a code already used (and then
no file is written), accepted with a fresh code and recorded. The command line
(system actor) gives no code."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import PermissionDenied, UserError
from app.domain.roles import SYSTEM_ACTOR, Role
from app.services import audit_log, demo, operators, payouts, settings
from app.services.audit_log import AuditFilter
from app.services.second_factor import SecondFactorRefused, StepUpRequired
from app.storage.models import AuditEvent
from tests.conftest import PASSWORD, enrol_second_factor, step_up_code
from tests.services.test_payouts import SENDER


@pytest.fixture
def programme(ctx):
    demo.build_demo(ctx, victims=120, seed=11)
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    return ctx


@pytest.fixture
def people(programme):
    made = {}
    for login, role in [("op1", Role.OPERATOR), ("sv1", Role.SUPERVISOR),
                        ("sv2", Role.SUPERVISOR), ("admin1", Role.ADMIN)]:
        made[login] = operators.add_operator(programme, SYSTEM_ACTOR, login, login.upper(),
                                             role, PASSWORD).as_actor()
        if role is not Role.OPERATOR:
            enrol_second_factor(programme, made[login], minutes_before=10)
    return made


def exports(ctx, who: str) -> list[tuple[str, str]]:
    with ctx.db.read() as session:
        return [tuple(r) for r in session.execute(
            select(AuditEvent.action, AuditEvent.actor_login)
            .where(AuditEvent.actor_login == who).order_by(AuditEvent.id))]


def step_up_failures(ctx, who: str) -> int:
    return sum(action == "operator.step_up_failed" for action, _who in exports(ctx, who))


def released_batch(ctx, people):
    batch = payouts.build_batch(ctx, people["sv1"])
    return payouts.release_batch(ctx, people["sv2"], batch.id,
                                 second_factor=step_up_code(ctx, people["sv2"]))


def refused_without_file(call, out, error=SecondFactorRefused):
    with pytest.raises(error) as caught:
        call()
    assert caught.value.ja and caught.value.en
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}*"))  # no temporary file left behind
    return caught.value


def test_transfer_file_needs_a_supervisor_and_a_fresh_code(programme, people, tmp_path):
    ctx = programme
    batch = released_batch(ctx, people)
    out = tmp_path / "furikomi.txt"
    refused_without_file(lambda: payouts.export_batch(ctx, people["op1"], batch.id, out), out,
                         PermissionDenied)
    exc = refused_without_file(
        lambda: payouts.export_batch(ctx, people["sv1"], batch.id, out), out, StepUpRequired)
    assert "authenticator" in exc.en
    refused_without_file(lambda: payouts.export_batch(ctx, people["sv1"], batch.id, out,
                                                      second_factor="000000"), out)

    code = step_up_code(ctx, people["sv1"])
    view = payouts.export_batch(ctx, people["sv1"], batch.id, out, second_factor=code)
    assert view.exported_at is not None and out.read_bytes()[:1] == b"1"
    assert exports(ctx, "sv1")[-2:] == [("second_factor.step_up", "sv1"),
                                        ("payout.batch_export", "sv1")]
    again = tmp_path / "again.txt"  # the same code a second time: a replay
    refused_without_file(lambda: payouts.export_batch(ctx, people["sv1"], batch.id, again,
                                                      second_factor=code), again)
    # The wrong and replayed codes count towards the lock-out, like any step-up.
    assert step_up_failures(ctx, "sv1") == 3
    payouts.export_batch(ctx, people["admin1"], batch.id, again,
                         second_factor=step_up_code(ctx, people["admin1"]))
    assert again.read_bytes() == out.read_bytes()


def test_card_and_nanaco_lists_need_a_supervisor_and_a_fresh_code(programme, people,
                                                                   tmp_path):
    ctx = programme
    issuer = next(iter(payouts.card_issuers_waiting(ctx)))
    card = tmp_path / "card.csv"
    refused_without_file(lambda: payouts.card_cancellation_list(
        ctx, people["op1"], issuer, card), card, PermissionDenied)
    refused_without_file(lambda: payouts.card_cancellation_list(
        ctx, people["sv2"], issuer, card), card, StepUpRequired)
    assert payouts.card_issuers_waiting(ctx)[issuer] > 0  # no case moved
    code = step_up_code(ctx, people["sv2"])
    assert payouts.card_cancellation_list(ctx, people["sv2"], issuer, card,
                                          second_factor=code) > 0
    assert issuer not in payouts.card_issuers_waiting(ctx)
    assert ("payout.card_cancellation_list", "sv2") in exports(ctx, "sv2")

    nanaco = tmp_path / "nanaco.csv"
    waiting = payouts.nanaco_waiting(ctx)
    refused_without_file(lambda: payouts.nanaco_list(ctx, people["op1"], nanaco), nanaco,
                         PermissionDenied)
    refused_without_file(lambda: payouts.nanaco_list(ctx, people["sv2"], nanaco,
                                                     second_factor=code), nanaco)
    assert payouts.nanaco_waiting(ctx) == waiting
    assert payouts.nanaco_list(ctx, people["sv2"], nanaco,
                               second_factor=step_up_code(ctx, people["sv2"])) == waiting
    recorded = [action for action, _who in exports(ctx, "sv2")]
    assert recorded[-1] == "payout.nanaco_list"
    assert "second_factor.step_up" in recorded[recorded.index("payout.card_cancellation_list")
                                               + 1:]


def test_audit_export_needs_a_fresh_code(programme, people, tmp_path):
    ctx = programme
    out = tmp_path / "audit.csv"
    everything = audit_log.AuditFilter()
    refused_without_file(lambda: audit_log.export_events(ctx, people["op1"], out, everything),
                         out, PermissionDenied)
    refused_without_file(lambda: audit_log.export_events(ctx, people["sv1"], out, everything),
                         out, StepUpRequired)
    code = step_up_code(ctx, people["sv1"])
    written = audit_log.export_events(ctx, people["sv1"], out, everything, second_factor=code)
    assert written > 0 and len(out.read_text(encoding="utf-8-sig").splitlines()) == written + 1
    assert exports(ctx, "sv1")[-2:] == [("second_factor.step_up", "sv1"),
                                        ("audit.export", "sv1")]
    replay = tmp_path / "replay.csv"
    refused_without_file(lambda: audit_log.export_events(ctx, people["sv1"], replay,
                                                         everything, second_factor=code), replay)


def test_the_command_line_gives_no_code(programme, people, tmp_path):
    ctx = programme
    batch = released_batch(ctx, people)
    payouts.export_batch(ctx, SYSTEM_ACTOR, batch.id, tmp_path / "f.txt")
    assert audit_log.export_events(ctx, SYSTEM_ACTOR, tmp_path / "a.csv",
                                   audit_log.AuditFilter()) > 0


def test_the_audit_export_reports_done_and_total_to_a_watch(ctx, staff, tmp_path):
    """Through a gateway with a watch (as the window's tasks and the server's jobs call
    it): progress is (done, total), as every long service reports it."""
    from app.services.gateway import FileOut, InProcessGateway
    from app.services.progress import Watch

    reports = []

    class Recording(Watch):
        def report(self, done: int, total: int) -> None:
            reports.append((done, total))
            super().report(done, total)

    gateway = InProcessGateway(ctx, staff["sv1"])
    total = audit_log.count_events(ctx, staff["sv1"], AuditFilter())
    outcome = gateway.write(audit_log.export_events, FileOut(str(tmp_path / "trail.csv")),
                            AuditFilter(), watch=Recording(),
                            second_factor=step_up_code(ctx, staff["sv1"]))
    assert outcome.value == total > 0
    assert reports and reports[-1] == (total, total)


def test_a_cancelled_audit_export_writes_nothing(ctx, staff, tmp_path):
    from app.services.gateway import FileOut, InProcessGateway
    from app.services.progress import Watch

    watch = Watch()
    watch.cancel()
    out = tmp_path / "exports" / "trail.csv"
    out.parent.mkdir()
    with pytest.raises(UserError):
        InProcessGateway(ctx, staff["sv1"]).write(
            audit_log.export_events, FileOut(str(out)), AuditFilter(), watch=watch,
            second_factor=step_up_code(ctx, staff["sv1"]))
    assert list(out.parent.iterdir()) == []  # nor a temporary file beside it
    assert audit_log.count_events(ctx, staff["sv1"], AuditFilter(action="audit.export")) == 0
