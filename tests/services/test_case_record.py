"""The printable case record (PDF) is an export of personal data: a supervisor or an
administrator with a fresh authenticator code, checked in the transaction that records
it; refused, no file is left. The record says what the window says: the victim, the
incidents, the payout details masked, the letters, the timeline in words, in the
bundled Japanese fonts."""

from __future__ import annotations

import stat
import subprocess

import pytest
from sqlalchemy import select

from app.core.errors import PermissionDenied
from app.core.i18n import set_locale
from app.domain.roles import SYSTEM_ACTOR
from app.domain.states import Status
from app.services import case_record, cases, intake
from app.services.cases import MoveRequest
from app.services.payout_details import set_payout_details
from app.services.second_factor import SecondFactorRefused, StepUpRequired
from app.storage.models import AuditEvent
from tests.conftest import step_up_code
from tests.services.helpers import BANK, incident, victim
from tests.services.test_export_step_up import people, programme, refused_without_file  # noqa: F401


@pytest.fixture(autouse=True)
def japanese():
    set_locale("ja")  # the interface's language, as the window sets it
    yield
    set_locale("ja")


def _case(ctx, staff):
    made = intake.take_phone_intake(ctx, staff["op1"], victim(name="髙橋 一郎",
                                                              phone="090-7000-1234"),
                                    incident())
    cases.move_case(ctx, staff["op1"], made.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ctx, staff["op1"], made.id, BANK)
    return cases.get_case(ctx, staff["op1"], made.id)


def _text(pdf) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def _recorded(ctx, case_id):
    with ctx.db.read() as session:
        return [tuple(row) for row in session.execute(
            select(AuditEvent.actor_login, AuditEvent.after).where(
                AuditEvent.action == "case.record_exported", AuditEvent.case_id == case_id))]


def test_the_record_needs_a_supervisor_and_a_fresh_code(programme, people, tmp_path):  # noqa: F811
    ctx = programme
    case = _case(ctx, people)
    out = tmp_path / "record.pdf"
    export = case_record.export_case_record
    refused_without_file(lambda: export(ctx, people["op1"], case.id, out), out,
                         PermissionDenied)
    refused_without_file(lambda: export(ctx, people["sv1"], case.id, out), out,
                         StepUpRequired)
    refused_without_file(lambda: export(ctx, people["sv1"], case.id, out,
                                        second_factor="000000"), out, SecondFactorRefused)
    assert _recorded(ctx, case.id) == []
    pages = export(ctx, people["sv1"], case.id, out,
                   second_factor=step_up_code(ctx, people["sv1"]))
    assert pages >= 1 and out.exists()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert _recorded(ctx, case.id) == [("sv1", f'{{"file": "record.pdf", "pages": {pages}}}')]
    # The command line (the system holding the database) gives no code.
    assert export(ctx, SYSTEM_ACTOR, case.id, tmp_path / "cli.pdf") >= 1


def test_the_record_says_what_the_window_says(programme, people, tmp_path):  # noqa: F811
    ctx = programme
    case = _case(ctx, people)
    out = tmp_path / "record.pdf"
    case_record.export_case_record(ctx, SYSTEM_ACTOR, case.id, out)
    words = _text(out)
    assert "髙橋 一郎" in words and case.case_number in words  # variant kanji, not boxes
    assert "090-7000-1234" in words  # the victim
    assert case.incidents[0].report_id in words  # the incidents
    number = BANK.account_number
    assert number not in words and f"****{number[-3:]}" in words  # masked
    assert "状態: 受付 → 案内済" in words  # the timeline in the tab's words
    assert "案件記録" in words and "〓" not in words
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True,
                           check=True).stdout
    assert "BIZUDPGothic" in fonts


def test_a_long_history_runs_onto_more_pages(programme, people, tmp_path):  # noqa: F811
    ctx = programme
    case = _case(ctx, people)
    for index in range(60):
        cases.add_note(ctx, people["op1"], case.id, f"メモ {index}")
    pages = case_record.export_case_record(ctx, SYSTEM_ACTOR, case.id, tmp_path / "long.pdf")
    assert pages >= 2
    assert "2" in _text(tmp_path / "long.pdf").split("\f")[1]


@pytest.mark.parametrize("missing", [999_999])
def test_an_unknown_case_is_not_found(programme, tmp_path, missing):  # noqa: F811
    from app.core.errors import NotFound

    with pytest.raises(NotFound):
        case_record.export_case_record(programme, SYSTEM_ACTOR, missing, tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
