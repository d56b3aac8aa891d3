"""Attacks on what the command line's centre mode added to the server's allow-list
(settings.change, reconcile, checkpoints.*, letters.find_letter / alignment_sheet,
operator_admin with a chosen password): what a desk sends is a request, never a claim
the server believes, and malformed input is refused, never an internal error."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import select

from app.core.errors import EnvironmentProblem, HoshoError, PermissionDenied, ValidationError
from app.domain.checkpoint import Checkpoint
from app.domain.roles import Role
from app.services import checkpoints, letters, operator_admin, reconcile, settings, stats
from app.services.second_factor import SecondFactorRefused, StepUpRequired
from app.storage.models import AuditEvent, Operator
from tests.conftest import PASSWORD, step_up_code
from tests.services.test_refund_decisions import loaded as refunds_loaded

STRONG = "a long enough password for tests"
loaded = refunds_loaded  # the refund programme's applications, one paid by 払出証書


def raw_call(server: str, desk, service: str, kind: str, args=(), kwargs=None):
    headers = {"Authorization": f"Bearer {desk.gateway.token}"}
    return httpx.post(f"{server}/call", headers=headers, timeout=30,
                      json={"service": service, "kind": kind, "args": list(args),
                            "kwargs": kwargs or {}})


# -- roles ---------------------------------------------------------------------------------
def test_an_operator_reaches_none_of_the_new_supervisor_or_admin_entries(ctx, desks, staff):
    desk = desks("op1")
    head = checkpoints.head(ctx, staff["admin1"])
    attempts = [
        (desk.write, settings.change, ("idle_lock_minutes", "30")),
        (desk.read, reconcile.reconcile, ()),
        (desk.write, checkpoints.head, ()),
        (desk.write, checkpoints.record, (head, "cp.json")),
        (desk.read, checkpoints.verify_given, ([],)),
        (desk.write, operator_admin.add, ("mallory", "M", Role.ADMIN, None)),
        (desk.write, operator_admin.reset_password, ("admin1", None)),
        (desk.write, operator_admin.reset_second_factor, ("admin1", None)),
    ]
    for call, service, args in attempts:
        with pytest.raises(PermissionDenied):
            call(service, *args)
    # ... and a supervisor none of the administrator's
    sv = desks("sv1")
    with pytest.raises(PermissionDenied):
        sv.write(settings.change, "idle_lock_minutes", "30")
    with pytest.raises(PermissionDenied):
        sv.write(checkpoints.record, head, "cp.json")
    assert settings.get(ctx).idle_lock_minutes == 10
    with ctx.db.read() as session:
        assert session.exec(select(Operator).where(Operator.login == "mallory")).first() is None
        assert not session.exec(select(AuditEvent).where(
            AuditEvent.action.in_(["audit.checkpoint", "setting.change"]))).all()


def test_the_chosen_password_passes_the_policy_and_must_be_changed(ctx, desks, staff):
    admin = desks("admin1")
    with pytest.raises(ValidationError) as refused:
        admin.write(operator_admin.reset_password, "op1", step_up_code(ctx, staff["admin1"]),
                    password="password")
    assert "password" not in (refused.value.ja + refused.value.en).replace("Passwords", "")
    admin.write(operator_admin.reset_password, "op1", step_up_code(ctx, staff["admin1"]),
                password=STRONG)
    with ctx.db.read() as session:
        row = session.exec(select(Operator).where(Operator.login == "op1")).one()
        assert row.must_change_password
        trail = " ".join(str(e.after) + str(e.before) for e in session.exec(select(AuditEvent)))
    assert STRONG not in trail


def test_an_account_with_a_chosen_password_kept_says_so_in_the_trail(ctx, desks, staff):
    """`operator add --password-stdin` without --must-change: the administrator knows a
    password nobody will change; the trail says the account was made so."""
    admin = desks("admin1")
    view, answered = admin.write(operator_admin.add, "carol", "Carol Example",
                                 Role.OPERATOR, step_up_code(ctx, staff["admin1"]),
                                 password=STRONG, must_change_password=False)
    assert answered == ""  # the chosen password is not sent back
    with ctx.db.read() as session:
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "operator.add", AuditEvent.entity_id == view.id)).one()
    assert '"must_change_password": false' in event.after
    assert STRONG not in event.after
    with pytest.raises(ValidationError):  # the policy holds for a chosen one
        admin.write(operator_admin.add, "dave", "Dave", Role.OPERATOR,
                    step_up_code(ctx, staff["admin1"]), password="dave" + "x" * 20)


def test_a_step_up_code_is_not_accepted_twice_across_two_commands(ctx, desks, staff):
    admin = desks("admin1")
    code = step_up_code(ctx, staff["admin1"])
    admin.write(operator_admin.reset_password, "op1", code)
    with pytest.raises(SecondFactorRefused):
        admin.write(operator_admin.reset_password, "op2", code)
    with ctx.db.read() as session:
        assert not session.exec(select(Operator).where(Operator.login == "op2")).one() \
            .must_change_password


def test_no_code_at_a_centre_is_refused_by_the_service(ctx, desks, staff):
    admin = desks("admin1")
    for service, args in ((operator_admin.add, ("newbie", "N", Role.OPERATOR, None)),
                          (operator_admin.reset_password, ("op1", None)),
                          (operator_admin.reset_second_factor, ("sv1", None))):
        with pytest.raises(SecondFactorRefused):
            admin.write(service, *args)
    with ctx.db.read() as session:
        assert not session.exec(select(Operator).where(Operator.login == "op1")).one() \
            .must_change_password


# -- what a desk names ---------------------------------------------------------------------
def test_an_actor_sent_to_a_new_read_entry_is_refused(server, desks, staff):
    desk = desks("op1")
    answer = raw_call(server, desk, "letters.find_letter", "read", ["AB-CD"],
                      {"actor": {"operator_id": staff["admin1"].operator_id}})
    assert answer.status_code == 422


def test_the_alignment_sheet_takes_no_server_path(server, desks, tmp_path):
    desk = desks("op1")
    target = tmp_path / "sheet.pdf"
    answer = raw_call(server, desk, "letters.alignment_sheet", "read", [str(target)])
    assert answer.status_code == 422
    assert not target.exists()


def test_a_checkpoint_is_recorded_at_the_servers_time_not_the_desks(ctx, desks, staff):
    """The desk sends back the head it was given, signed where its key is: the time the
    trail records is the server's, whatever the desk wrote into taken_at."""
    admin = desks("admin1")
    head = admin.write(checkpoints.head)
    for taken_at in (datetime(2001, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC),
                     ctx.clock.now().replace(tzinfo=None), None):
        with pytest.raises(HoshoError) as refused:
            admin.write(checkpoints.record, replace(head, taken_at=taken_at), "cp.json")
        assert not isinstance(refused.value, EnvironmentProblem), taken_at
    admin.write(checkpoints.record, head, "cp.json")
    with ctx.db.read() as session:
        events = session.exec(select(AuditEvent).where(
            AuditEvent.action == "audit.checkpoint")).all()
    assert [e.at.replace(tzinfo=UTC) if e.at.tzinfo is None else e.at for e in events] \
        == [ctx.clock.now()]


def test_a_checkpoint_past_any_position_is_refused_not_an_internal_error(ctx, desks, staff):
    admin = desks("admin1")
    head = admin.write(checkpoints.head)
    for seq in (10**30, -1):
        with pytest.raises(HoshoError) as refused:
            admin.write(checkpoints.record, replace(head, seq=seq), "cp.json")
        assert not isinstance(refused.value, EnvironmentProblem), seq
    given = checkpoints.Given("x", Checkpoint(seq=10**30, hash="0" * 64, head_at=None,
                                              taken_at=ctx.clock.now(), origin=None))
    with pytest.raises(ValidationError):  # refused at the call's door
        admin.read(checkpoints.verify_given, [given])
    # ... and on the desk's own database, held against the chain (it does not hold)
    _report, findings = checkpoints.verify_given(ctx, [given])
    assert not findings[0].holds
    with pytest.raises(HoshoError) as refused:
        checkpoints.record(ctx, staff["admin1"], replace(head, seq=10**30), "cp.json")
    assert not isinstance(refused.value, EnvironmentProblem)


def test_a_settings_number_past_the_pages_limit_is_refused(ctx, desks):
    """The settings page takes at most 2,000,000,000; the command line the same (a
    larger one stored breaks every later timedelta built from it)."""
    admin = desks("admin1")
    with pytest.raises(ValidationError):
        admin.write(settings.change, "queue_hold_minutes", "99999999999999999999")
    assert settings.get(ctx).queue_hold_minutes == 15


def test_a_number_of_days_the_calendar_cannot_reach_is_refused(ctx, staff):
    """Spans of time have limits of their own (app.domain.settings.SPAN_MAXIMUM): a
    date that far off would overflow the calendar (the dashboard's reminders)."""
    from app.services import dashboard

    for key, value in (("documents_reminder_days", "2000000000"),
                       ("zengin_lead_business_days", "100000"),
                       ("queue_retry_minutes", "999999999")):
        with pytest.raises(ValidationError) as refused:
            settings.change(ctx, staff["admin1"], key, value)
        assert "以下" in refused.value.ja
    settings.change(ctx, staff["admin1"], "documents_reminder_days", "3650")
    assert dashboard.dashboard(ctx) is not None  # the longest span taken still computes


def test_a_checkpoint_names_a_file_by_its_plain_name(ctx, desks):
    admin = desks("admin1")
    head = admin.write(checkpoints.head)
    admin.write(checkpoints.record, head, "/srv/hosho/secret/" + "x" * 500 + ".json")
    with ctx.db.read() as session:
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "audit.checkpoint")).one()
    assert "/srv" not in event.after
    assert len(event.after) < 400


def test_a_centre_command_never_opens_the_database_of_hosho_db(tmp_path, monkeypatch,
                                                                 capsys):
    from app.main import main

    local = tmp_path / "local.sqlite3"
    monkeypatch.setenv("HOSHO_DB", str(local))
    monkeypatch.setenv("HOSHO_SERVER", "http://127.0.0.1:9")
    for argv in (["stats"], ["operator", "list"], ["audit", "verify"]):
        assert main(argv) == 2, argv
        assert "internal error" not in capsys.readouterr().err
    for argv in (["db", "backup", "--out", str(tmp_path / "b.sqlite3")], ["demo"]):
        assert main(argv) == 2, argv  # local-only: refused with a centre named
    assert not local.exists()
    assert not (tmp_path / "b.sqlite3").exists()


def test_malformed_values_for_the_new_entries_are_refused_not_internal(ctx, desks, staff):
    admin = desks("admin1")
    for key, value in (("zengin_company_name", ["ア"]), ("zengin_bank_code", {"a": 1}),
                       ("refund_deadline", "2020-13-45"), ("letter_window_x_mm", 1.5),
                       ("no_such_setting", "1")):
        with pytest.raises(HoshoError) as refused:
            admin.write(settings.change, key, value)
        assert not isinstance(refused.value, EnvironmentProblem), key
    assert admin.read(letters.find_letter, "\x00" * 500) is None
    assert admin.read(stats.programme_stats)["victims"] == 0
    assert PASSWORD  # (the desks signed in with it)


# -- numbers past what the database holds ----------------------------------------------------
def test_a_number_past_what_the_database_holds_is_refused_not_an_internal_error(
        server, desks):
    """A desk's int goes to SQL (a limit, an id, a position): beyond 64 bits it is
    refused as a bad value (422), at the call's door, not as the server's bug (500)."""
    desk = desks("sv1")
    for service, kwargs in (("queue.list_queue", {"limit": 10**30}),
                            ("letters.list_batches", {"limit": -(10**30)}),
                            ("payouts.get_batch", {"batch_id": 2**63}),
                            ("refunds.work_list", {"name": "unmatched", "offset": 10**19})):
        answer = raw_call(server, desk, service, "read", kwargs=kwargs)
        assert answer.status_code == 422, (service, answer.text)


@pytest.mark.parametrize("argv", [
    ["queue", "--limit", "99999999999999999999"],
    ["letters", "batches", "--limit", "99999999999999999999"],
    ["letters", "mark-mailed", "99999999999999999999"],
    ["payouts", "batch", "--as", "sv1", "--date", "2020-13-45"],
    ["refunds", "list", "unmatched", "--limit", "99999999999999999999"],
])
def test_malformed_numbers_and_dates_on_the_command_line_are_refused(ctx, staff, argv,
                                                                      capsys):
    from app.main import main

    if ctx.db.path is None:
        pytest.skip("the command line's own database: SQLite")
    try:
        code = main(["--db", str(ctx.db.path), *argv])
    except SystemExit as refused:  # argparse's own refusal of the option
        code = refused.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "internal error" not in err


# -- the command line at a centre --------------------------------------------------------------
def test_a_centre_command_without_a_code_on_a_pipe_is_refused(ctx, server, staff, capsys):
    from tests.server.test_centre_cli import hosho, login

    login(ctx, server, staff, "admin1")
    assert hosho("--server", server, "operator", "reset-password", "op1",
                 "--password-stdin", stdin=STRONG + "\n") == 2
    assert hosho("--server", server, "operator", "reset-second-factor", "sv1") == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and STRONG not in err
    with ctx.db.read() as session:
        assert not session.exec(select(Operator).where(Operator.login == "op1")).one() \
            .must_change_password


@pytest.mark.parametrize("where", ["centre", "local"])
def test_letters_into_a_folder_given_as_the_file_record_no_batch(ctx, server, staff,
                                                                   tmp_path, where, capsys):
    """--out names a folder that exists: refused, and no batch is recorded as made (at a
    centre the server would otherwise commit the batch the desk then cannot save)."""
    from app.domain.channels import Channel
    from app.services import intake
    from tests.server.test_centre_cli import hosho, login
    from tests.services.helpers import incident, victim

    if where == "local" and ctx.db.path is None:
        pytest.skip("the command line's own database: SQLite")
    case = intake.take_phone_intake(ctx, staff["op1"], victim(), incident(Channel.DEBIT_CHARGE))
    folder = tmp_path / "letters"
    folder.mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    if where == "centre":
        login(ctx, server, staff, "op1")
        head = ["--server", server]
    else:
        head = ["--db", str(ctx.db.path)]
    for out in (folder, tmp_path / "a-file" / "inside" / "letters.pdf"):
        code = hosho(*head, "letters", "guidance", "--case", case.case_number,
                     "--out", str(out))
        err = capsys.readouterr().err
        assert code == 2, err
        assert "internal error" not in err
    assert letters.list_batches(ctx) == []
    assert list(folder.iterdir()) == []


def test_a_postal_request_list_lost_on_the_way_is_not_lost_for_good(ctx, staff, loaded,
                                                                      desks, tmp_path,
                                                                      monkeypatch):
    """The list claims its applications when the server commits; a download cut off
    after that loses the file, not the list: it is written again, the same file, by a
    supervisor with a fresh code, and an operator cannot."""
    from app.remote.gateway import RemoteGateway
    from app.services import refunds
    from app.services.gateway import FileOut

    sv = desks("sv1")
    cut = tmp_path / "yucho.csv"

    def cut_off(*_args, **_kwargs):
        raise EnvironmentProblem("切れました", "The download was cut off.")

    with monkeypatch.context() as patched:
        patched.setattr(RemoteGateway, "_download", cut_off)
        with pytest.raises(EnvironmentProblem):
            sv.write(refunds.postal_request_list, FileOut(str(cut)),
                     second_factor=step_up_code(ctx, staff["sv1"]))
    assert not cut.exists()
    assert refunds.postal_counts(ctx)["requested"] == 1  # claimed: on no later list
    made = sv.read(refunds.postal_lists)
    assert [m.item_count for m in made] == [1]
    again = tmp_path / "yucho-again.csv"
    with pytest.raises(PermissionDenied):
        desks("op1").write(refunds.postal_request_list_again, made[0].id,
                           FileOut(str(again)))
    with pytest.raises(StepUpRequired):
        sv.write(refunds.postal_request_list_again, made[0].id, FileOut(str(again)))
    assert sv.write(refunds.postal_request_list_again, made[0].id, FileOut(str(again)),
                    second_factor=step_up_code(ctx, staff["sv1"])) == 1
    assert "P1" in again.read_text(encoding="utf-8-sig")
    with ctx.db.read() as session:
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "refund.postal_list_again")).one()
    after = event.after if isinstance(event.after, dict) else json.loads(event.after)
    assert after["same_file"] is True and str(tmp_path) not in str(after)
