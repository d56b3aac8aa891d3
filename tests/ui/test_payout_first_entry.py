"""A new case's first payout details raise no red warning in the case detail; a change
of existing details does (pytest-qt)."""

from __future__ import annotations

from app.domain.states import Status
from app.services import cases, intake
from app.services.cases import MoveRequest
from app.services.payout_details import Confirmation, ConfirmedVia, set_payout_details
from tests.services.helpers import BANK, OTHER_BANK, incident, victim
from tests.ui.conftest import make_desk, settle
from tests.ui.test_main_screens import window_for


def test_first_entry_shows_no_payout_change_warning(ui_app, qtbot, ui_ctx):
    op1 = make_desk(ui_ctx, "op1").actor
    case = intake.take_phone_intake(ui_ctx, op1, victim(name="初回 太郎", phone="090-4545-6767"),
                                    incident())
    cases.move_case(ui_ctx, op1, case.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ui_ctx, op1, case.id, BANK)
    cases.move_case(ui_ctx, op1, case.id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    cases.move_case(ui_ctx, op1, case.id, MoveRequest(Status.VERIFIED, verified_amount=1000))
    window = window_for(qtbot, ui_ctx, "sv1")
    window.open_case(case.id)
    settle(qtbot, window.desk)
    detail = window.cases.detail
    assert "支払先変更" not in detail.warnings.text() and detail.warnings.isHidden()
    set_payout_details(ui_ctx, op1, case.id, OTHER_BANK,  # sends the case back
                       confirmation=Confirmation(ConfirmedVia.PHONE_ON_RECORD))
    cases.move_case(ui_ctx, op1, case.id, MoveRequest(Status.VERIFIED, verified_amount=1000))
    window.cases.detail.load(case.id)
    settle(qtbot, window.desk)
    assert "支払先変更" in detail.warnings.text() and not detail.warnings.isHidden()
