"""Entering payout details on a case, as an operator at the desk would."""

from __future__ import annotations

from app.domain.channels import PayoutKind
from app.domain.states import Status
from app.services import cases, operators, victims
from app.services.cases import MoveRequest
from app.services.payout_details import set_payout_details
from tests.services.helpers import BANK
from tests.ui.conftest import settle
from tests.ui.test_main_screens import new_debit_case, open_case, window_for


def test_bank_and_branch_found_by_name_then_saved(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    case = new_debit_case(ui_ctx, window)
    open_case(qtbot, window, case.id)
    dialog = window.cases.detail.edit_payout()
    dialog.bank_search.setText("みずほ")
    assert dialog.bank.currentData() == "0001"  # the first bank the name finds
    dialog.branch_search.setText("東京営業")
    assert dialog.branch.currentData() == "001"
    dialog.account_number.setText("１２３４５６７")  # full-width, as a caller dictates
    dialog.holder_kana.setText("ヤマダ タロウ")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.saved is not None, timeout=5000)
    settle(qtbot, window.desk)
    details = victims.reveal_payout(ui_ctx, window.desk.actor, case.id)
    assert (details.kind, details.bank_code, details.branch_code, details.account_number) == (
        PayoutKind.BANK_ACCOUNT, "0001", "001", "1234567")
    assert details.bank_name == "みずほ"
    assert "****567" in window.cases.detail.payout_label.text()


def test_missing_fields_are_named_and_nothing_is_saved(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    case = new_debit_case(ui_ctx, window)
    open_case(qtbot, window, case.id)
    dialog = window.cases.detail.edit_payout()
    dialog.submit()
    assert "口座番号" in dialog.message.text() and "金融機関" in dialog.message.text()
    assert cases.get_case(ui_ctx, window.desk.actor, case.id).payout is None
    dialog.reject()


def test_changing_the_destination_needs_the_contact_on_record(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    case = new_debit_case(ui_ctx, window)
    cases.move_case(ui_ctx, window.desk.actor, case.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ui_ctx, window.desk.actor, case.id, BANK)
    open_case(qtbot, window, case.id)
    dialog = window.cases.detail.edit_payout()
    dialog.bank_search.setText("0005")
    dialog.branch_search.setText("002")
    dialog.account_number.setText("7654321")
    dialog.submit()  # no confirmation chosen
    qtbot.waitUntil(lambda: bool(dialog.message.text()), timeout=5000)
    assert "登録済みの連絡先" in dialog.message.text()
    assert victims.reveal_payout(ui_ctx, window.desk.actor, case.id).bank_code == "0001"
    dialog.confirmed.setCurrentIndex(1)  # called back the phone number on record
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.saved is not None, timeout=5000)
    assert victims.reveal_payout(ui_ctx, window.desk.actor, case.id).bank_code == "0005"


def test_japan_post_bank_kigou_and_bangou_become_branch_and_account(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    case = new_debit_case(ui_ctx, window)
    open_case(qtbot, window, case.id)
    dialog = window.cases.detail.edit_payout()
    dialog.post_kigou.setText("10530")
    dialog.post_bangou.setText("1234567")  # must end in 1: refused, with the reason
    dialog.holder_kana.setText("ヤマダ タロウ")
    dialog.submit()
    assert "番号" in dialog.message.text()
    dialog.post_bangou.setText("12345671")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.saved is not None, timeout=5000)
    details = victims.reveal_payout(ui_ctx, window.desk.actor, case.id)
    assert (details.bank_code, details.branch_code, details.account_number) == (
        "9900", "058", "1234567")


def test_a_save_after_another_desk_saved_is_refused_and_shows_theirs(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    case = new_debit_case(ui_ctx, window)
    open_case(qtbot, window, case.id)
    dialog = window.cases.detail.edit_payout()
    other = next(o for o in operators.list_operators(ui_ctx) if o.login == "op2").as_actor()
    set_payout_details(ui_ctx, other, case.id, BANK, expected_version=case.version)
    dialog.kind.setCurrentIndex(dialog.kind.findData(PayoutKind.BANK_ACCOUNT.value))
    dialog.bank_search.setText("0005")
    dialog.branch_search.setText("002")
    dialog.account_number.setText("7654321")
    dialog.holder_kana.setText("ヤマダ ハナコ")
    dialog.submit()
    qtbot.waitUntil(lambda: bool(window.desk.prompter.errors), timeout=5000)
    assert "他の操作者が先に更新しました" in window.desk.prompter.errors[0]
    assert not dialog.isVisible() and dialog.saved is None
    # The case behind shows the other desk's details, and nothing of this form was saved.
    qtbot.waitUntil(lambda: "****567" in window.cases.detail.payout_label.text(), timeout=5000)
    assert window.cases.detail.case.version == case.version + 1
    assert victims.reveal_payout(ui_ctx, window.desk.actor, case.id).bank_code == "0001"
