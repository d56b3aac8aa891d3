"""The reason a move is not offered is shown beside the moves (pytest-qt)."""

from __future__ import annotations

from app.domain.states import Status
from app.services import cases, intake
from app.services.cases import MoveRequest
from app.services.payout_details import set_payout_details
from tests.services.helpers import BANK, incident, victim
from tests.ui.conftest import make_desk, settle
from tests.ui.test_main_screens import window_for


def test_documents_received_waits_for_payout_details_and_says_so(ui_app, qtbot, ui_ctx):
    op1 = make_desk(ui_ctx, "op1").actor
    case = intake.take_phone_intake(ui_ctx, op1, victim(name="理由 太郎", phone="090-3131-4141"),
                                    incident())
    cases.move_case(ui_ctx, op1, case.id, MoveRequest(Status.CONTACTED))
    window = window_for(qtbot, ui_ctx)
    window.open_case(case.id)
    settle(qtbot, window.desk)
    detail = window.cases.detail
    assert not any("receive_documents" in name for name in detail.move_buttons())
    assert detail.blocked.isVisible()
    assert "書類受領" in detail.blocked.text() and "支払先" in detail.blocked.text()
    set_payout_details(ui_ctx, op1, case.id, BANK)
    detail.load(case.id)
    settle(qtbot, window.desk)
    assert any("receive_documents" in name for name in detail.move_buttons())
    assert not detail.blocked.isVisible()
