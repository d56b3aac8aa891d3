"""Driving the real screens as an operator would (pytest-qt, offscreen)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo, QFontMetrics
from PySide6.QtWidgets import QApplication

from app.domain.channels import Channel
from app.domain.states import Status
from app.services import cases, intake, operators
from app.services.cases import MoveRequest
from app.services.changes import Changed
from app.ui.case_model import CaseListModel
from app.ui.main_window import MainWindow
from app.ui.signin import FirstAdminDialog, SignInDialog
from tests.conftest import PASSWORD, step_up_code
from tests.ui.conftest import make_desk, settle


def window_for(qtbot, ctx, login="op1", answers=None) -> MainWindow:
    desk = make_desk(ctx, login, answers)
    window = MainWindow(desk, login)
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, desk)
    return window


def rows_shown(window) -> list:
    return window.cases.model.rows


def search(qtbot, window, text: str) -> None:
    """Type as an operator would; Japanese arrives committed by the IME, in one go."""
    if text.isascii():
        qtbot.keyClicks(window.cases.search, text)
    else:
        window.cases.search.insert(text)
    qtbot.waitUntil(lambda: window.cases.model.query.text == text, timeout=3000)
    settle(qtbot, window.desk)


def test_japanese_renders_with_the_bundled_font(ui_app):
    font = QApplication.font()
    assert QFontInfo(font).family() == "BIZ UDPGothic"
    metrics = QFontMetrics(font)
    for char in "補償デスク案件一覧被害者ｶﾀｶﾅ髙円":
        assert metrics.inFontUcs4(ord(char)), char


def test_sign_in_refuses_wrong_password_then_accepts(ui_app, qtbot, ui_ctx):
    dialog = SignInDialog(ui_ctx)
    qtbot.addWidget(dialog)
    dialog.login.setText("op1")
    dialog.password.setText("wrong password!!")
    dialog.submit()
    qtbot.waitUntil(lambda: "パスワード" in dialog.message.text(), timeout=5000)
    assert dialog.operator is None and dialog.password.text() == ""
    dialog.login.setText("nosuchuser")
    dialog.password.setText(PASSWORD)
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=5000)
    unknown_name_message = dialog.message.text()
    assert unknown_name_message == "操作者名またはパスワードが違います。"
    dialog.login.setText("op1")
    dialog.password.setText(PASSWORD)
    dialog.submit()
    # An operator's password alone signs no one in: the authenticator code follows.
    qtbot.waitUntil(lambda: dialog.stage == "code", timeout=5000)
    assert dialog.operator is None
    op1 = next(o for o in operators.list_operators(ui_ctx) if o.login == "op1").as_actor()
    dialog.code.setText(step_up_code(ui_ctx, op1))
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    assert dialog.operator.login == "op1"


def test_first_start_asks_for_the_first_administrator(ui_app, qtbot, ctx):
    dialog = FirstAdminDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.login.setText("chief")
    dialog.display_name.setText("責任者")
    dialog.password.setText("a sturdy passphrase")
    dialog.again.setText("a sturdy passphrase")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    assert dialog.operator.role.value == "admin"


def test_signed_in_operator_is_shown(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx, "sv1")
    label = window.findChild(type(window.cases.count_label), "signed_in")
    assert "sv1" in label.text() and "スーパーバイザー" in label.text()


def test_search_by_kana_in_any_script_and_by_case_number(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    first = rows_shown(window)[0]
    kana = first.name_kana.split(" ")[0]
    hiragana = "".join(chr(ord(c) - 0x60) for c in kana)
    search(qtbot, window, hiragana)
    assert rows_shown(window), "hiragana search found nothing"
    assert all(r.name_kana.startswith(kana) for r in rows_shown(window))
    window.cases.search.clear()
    search(qtbot, window, first.case_number.replace("-", "").lower())
    assert [r.case_number for r in rows_shown(window)] == [first.case_number]


def test_search_by_phone_in_any_format(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    view = cases.get_case(ui_ctx, window.desk.actor, rows_shown(window)[0].id)
    phone = view.victim.phone or ""
    if not phone:
        return
    full_width = phone.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    search(qtbot, window, full_width)
    assert view.case_number in [r.case_number for r in rows_shown(window)]
    assert all("*" in r.phone_masked for r in rows_shown(window))


def test_filters_by_channel_and_status_and_sorts(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    page = window.cases
    page.channel.setCurrentIndex(page.channel.findData(Channel.NANACO_CHARGE.value))
    settle(qtbot, window.desk)
    assert rows_shown(window) and {r.channel for r in rows_shown(window)} == {
        Channel.NANACO_CHARGE}
    page.status.setCurrentIndex(page.status.findData(Status.RECEIVED.value))
    settle(qtbot, window.desk)
    assert {r.status for r in rows_shown(window)} == {Status.RECEIVED}
    page.status.setCurrentIndex(0)
    page.channel.setCurrentIndex(0)
    page.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # claimed amount
    settle(qtbot, window.desk)
    amounts = [r.claimed_amount for r in rows_shown(window)]
    assert amounts == sorted(amounts, reverse=True)


def test_list_loads_more_rows_as_it_scrolls(ui_app, qtbot, ui_ctx, monkeypatch):
    import app.ui.case_model as case_model
    from app.services.stats import programme_stats

    monkeypatch.setattr(case_model, "PAGE", 25)
    window = window_for(qtbot, ui_ctx)
    total = programme_stats(ui_ctx)["cases"]
    first = len(rows_shown(window))
    assert first % 25 == 0 and 0 < first < total  # only what the viewport needs
    qtbot.waitExposed(window)
    for _ in range(40):
        window.cases.table.scrollToBottom()
        qtbot.wait(20)  # the view asks for more rows while it lays the scroll out
        settle(qtbot, window.desk)
        if len(rows_shown(window)) == total:
            break
    assert len(rows_shown(window)) == total
    assert not window.cases.model.canFetchMore()


def open_case(qtbot, window, case_id: int) -> None:
    window.cases.detail.load(case_id)
    settle(qtbot, window.desk)
    assert window.cases.detail.case.id == case_id


def new_debit_case(ctx, window):
    from tests.services.helpers import incident, victim

    return intake.take_phone_intake(ctx, window.desk.actor, victim(phone="03-5555-0001"),
                                    incident())


def test_open_a_case_and_make_a_move(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx, answers=[True])
    case = new_debit_case(ui_ctx, window)
    open_case(qtbot, window, case.id)
    buttons = window.cases.detail.move_buttons()
    assert set(buttons) == {"move_contact_contacted", "move_mark_unreachable_unreachable",
                            "move_hold_on_hold", "move_merge_merged"}  # no reject: operator
    qtbot.mouseClick(buttons["move_contact_contacted"], Qt.MouseButton.LeftButton)
    settle(qtbot, window.desk)
    qtbot.waitUntil(lambda: window.cases.detail.case.status is Status.CONTACTED, timeout=3000)
    settle(qtbot, window.desk)
    asked = window.desk.prompter.asked[0][1]
    assert case.case_number in asked and "案内済" in asked
    assert "案内済" in window.cases.detail.header.text()
    timeline = window.cases.detail.timeline
    changes = [timeline.item(row, 3).text() for row in range(timeline.rowCount())]
    assert "状態: 受付 → 案内済" in changes[0]  # newest first, in words, not codes
    assert any("請求額: " in c and "円" in c for c in changes)
    assert not any("status" in c or "received" in c or "_amount" in c for c in changes)


def test_a_cancelled_confirmation_changes_nothing(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx, answers=[False])
    case = new_debit_case(ui_ctx, window)
    open_case(qtbot, window, case.id)
    window.cases.detail.move_buttons()["move_contact_contacted"].click()
    settle(qtbot, window.desk)
    assert cases.get_case(ui_ctx, window.desk.actor, case.id).status is Status.RECEIVED


def test_refused_move_shows_the_reason(ui_app, qtbot, ui_ctx):
    """An operator verifying more than the claim is refused by the service."""
    from app.services.payout_details import set_payout_details
    from tests.services.helpers import BANK

    window = window_for(qtbot, ui_ctx, answers=[999_999, "多めに", True])
    case = new_debit_case(ui_ctx, window)
    cases.move_case(ui_ctx, window.desk.actor, case.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ui_ctx, window.desk.actor, case.id, BANK)
    cases.move_case(ui_ctx, window.desk.actor, case.id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    open_case(qtbot, window, case.id)
    window.cases.detail.move_buttons()["move_verify_verified"].click()
    qtbot.waitUntil(lambda: bool(window.desk.prompter.errors), timeout=5000)
    assert "スーパーバイザー" in window.desk.prompter.errors[0]
    assert "999,999円" in window.desk.prompter.asked[2][1]  # the confirmation states it
    assert cases.get_case(ui_ctx, window.desk.actor, case.id).verified_amount is None


def test_merge_asks_which_case_to_keep(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    keep = new_debit_case(ui_ctx, window)
    duplicate = new_debit_case(ui_ctx, window)
    typed = keep.case_number.replace("-", "").lower()  # as read over the phone
    window.desk.prompter.answers = [True, typed, "同じ被害の二重登録"]
    open_case(qtbot, window, duplicate.id)
    window.cases.detail.move_buttons()["move_merge_merged"].click()
    qtbot.waitUntil(lambda: window.cases.detail.case.status is Status.MERGED, timeout=5000)
    settle(qtbot, window.desk)
    kept = cases.get_case(ui_ctx, window.desk.actor, keep.id)
    assert kept.claimed_amount == keep.claimed_amount + duplicate.claimed_amount
    assert [kind for kind, _label in window.desk.prompter.asked] == ["confirm", "text", "text"]


def test_merge_into_an_unknown_number_is_refused_with_the_number(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx, answers=[True, "H-0000000-9", "重複"])
    duplicate = new_debit_case(ui_ctx, window)
    open_case(qtbot, window, duplicate.id)
    window.cases.detail.move_buttons()["move_merge_merged"].click()
    qtbot.waitUntil(lambda: bool(window.desk.prompter.errors), timeout=5000)
    assert "H-0000000-9" in window.desk.prompter.errors[0] or "正しくありません" in (
        window.desk.prompter.errors[0])
    assert cases.get_case(ui_ctx, window.desk.actor, duplicate.id).status is Status.RECEIVED


def test_edit_conflict_from_a_second_session(ui_app, qtbot, ui_ctx):
    first = window_for(qtbot, ui_ctx, "op1")
    second = window_for(qtbot, ui_ctx, "op2")
    case = new_debit_case(ui_ctx, first)
    open_case(qtbot, first, case.id)
    open_case(qtbot, second, case.id)
    first.cases.detail.victim_edits["address"].setText("東京都港区芝公園4丁目2番8号")
    first.cases.detail.save_victim()
    settle(qtbot, first.desk)
    second.cases.detail.victim_edits["address"].setText("大阪府大阪市北区梅田1丁目1番1号")
    second.cases.detail.save_victim()
    qtbot.waitUntil(lambda: bool(second.desk.prompter.errors), timeout=5000)
    assert "他の操作者" in second.desk.prompter.errors[0]
    settle(qtbot, second.desk)
    qtbot.waitUntil(lambda: second.cases.detail.victim_edits["address"].text()
                    == "東京都港区芝公園4丁目2番8号", timeout=3000)
    saved = cases.get_case(ui_ctx, first.desk.actor, case.id).victim.address
    assert saved == "東京都港区芝公園4丁目2番8号"


def test_phone_intake_matching_an_existing_victim(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    existing = new_debit_case(ui_ctx, window)
    dialog = window.new_intake()
    qtbot.addWidget(dialog)
    dialog.edits["name"].setText("山田　太郎")
    dialog.edits["phone"].setText("０３－５５５５－０００１")
    dialog.channel.setCurrentIndex(dialog.channel.findData(Channel.NANACO_CHARGE.value))
    dialog.occurred.setText("令和元年7月3日 14時5分")
    dialog.amount.setText("１０，０００円")
    dialog.submit()
    settle(qtbot, window.desk)
    assert dialog.match_list.isVisible() and dialog.match_list.count() == 1
    assert "既に登録" in dialog.message.text()
    dialog.match_list.setCurrentRow(0)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    assert dialog.created.victim.id == existing.victim.id
    assert dialog.created.channel is Channel.NANACO_CHARGE
    assert dialog.created.claimed_amount == 10_000


def test_phone_intake_names_each_bad_field(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    dialog = window.new_intake()
    qtbot.addWidget(dialog)
    dialog.occurred.setText("2019/02/30")
    dialog.amount.setText("1000.5")
    dialog.submit()
    text = dialog.message.text()
    assert "氏名" in text and "発生日時" in text and "被害金額" in text and "電話番号" in text
    assert dialog.created is None


def test_shortcuts_focus_search_and_open_next_case(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    window.activateWindow()
    window.search()
    assert window.cases.search.hasFocus() or QApplication.focusWidget() is window.cases.search
    window.next_case()
    settle(qtbot, window.desk)
    assert window.cases.detail.case is not None


def test_navigation_reaches_every_area(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    for key in window.pages:
        window.show_page(key)
        assert window.stack.currentWidget() is window.pages[key]
        assert window.nav.currentItem().text()


def test_credit_deadlines_show_in_the_list(ui_app, qtbot, ui_ctx):
    from app.domain.deadlines import DeadlineFlag
    from app.ui.case_model import DEADLINE_COLUMN

    window = window_for(qtbot, ui_ctx)
    window.cases.overdue.setChecked(True)
    settle(qtbot, window.desk)
    model = window.cases.model
    assert model.rows, "the demo holds credit cases near their billing date"
    assert {r.channel for r in model.rows} == {Channel.CREDIT_CHARGE}
    for number, row in enumerate(model.rows):
        cell = model.index(number, DEADLINE_COLUMN)
        assert row.deadline in (DeadlineFlag.DUE, DeadlineFlag.OVERDUE)
        assert model.data(cell) in ("期限間近", "期限超過")
        assert model.data(cell, Qt.ItemDataRole.BackgroundRole) is not None


def test_list_refreshes_when_another_page_changes_cases(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    search(qtbot, window, "ホショウ")
    assert rows_shown(window) == []
    opened = intake.take_phone_intake(
        ui_ctx, window.desk.actor,
        intake.VictimInput(name="補償 花子", name_kana="ホショウ ハナコ", phone="090-1111-2222"),
        intake.IncidentInput(channel=Channel.DEBIT_CHARGE,
                             occurred_at=ui_ctx.clock.now(), amount=5_000))
    window.desk.changed.emit(Changed(cases=frozenset({opened.id})))
    settle(qtbot, window.desk)
    assert [r.name for r in rows_shown(window)] == ["補償 花子"]


def test_case_list_model_passes_qt_model_checks(ui_app, qtbot, ui_ctx, qtmodeltester):
    desk = make_desk(ui_ctx, "op1")
    model = CaseListModel(desk)
    model.refresh()
    settle(qtbot, desk)
    assert model.rowCount() > 0
    qtmodeltester.check(model)


def test_english_interface_by_setting(ui_app, qtbot, ui_ctx):
    from app.core.i18n import set_locale

    set_locale("en")
    window = window_for(qtbot, ui_ctx)
    assert window.nav.item(0).text() == "Cases"
    assert window.cases.model.headerData(0, Qt.Orientation.Horizontal) == "Case no."
    set_locale("ja")


def test_a_case_opened_from_approvals_shows_in_the_case_detail(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx, login="sv1")
    case = new_debit_case(ui_ctx, window)
    window.show_page("approvals")
    window.approvals.case_opened.emit(case.id)
    settle(qtbot, window.desk)
    assert window.stack.currentWidget() is window.cases
    assert window.cases.detail.case.id == case.id


def test_case_detail_flags_a_shared_account(ui_app, qtbot, ui_ctx):
    from app.services.payout_details import set_payout_details
    from tests.services.helpers import BANK

    window = window_for(qtbot, ui_ctx)
    first = new_debit_case(ui_ctx, window)
    second = intake.take_phone_intake(ui_ctx, window.desk.actor,
                                      intake.VictimInput(name="別人 次郎", phone="03-5555-0999"),
                                      intake.IncidentInput(channel=Channel.DEBIT_CHARGE,
                                                           occurred_at=ui_ctx.clock.now(),
                                                           amount=3_000))
    for case in (first, second):
        cases.move_case(ui_ctx, window.desk.actor, case.id, MoveRequest(Status.CONTACTED))
        set_payout_details(ui_ctx, window.desk.actor, case.id, BANK)
    open_case(qtbot, window, second.id)
    settle(qtbot, window.desk)
    warnings = window.cases.detail.warnings
    assert not warnings.isHidden()
    assert "****567" in warnings.text() and "× 2" in warnings.text()
    assert "口座" in warnings.text()


def test_ctrl_j_on_the_queue_takes_the_next_person_to_call(ui_app, qtbot, ui_ctx):
    from app.services import queue

    window = window_for(qtbot, ui_ctx)
    expected = queue.list_queue(ui_ctx, 0, 1)[0].case_number
    window.show_page("queue")
    settle(qtbot, window.desk)
    window.next_case()
    settle(qtbot, window.desk)
    assert window.stack.currentWidget() is window.queue
    assert window.queue.held is not None and window.queue.held.case_number == expected


def test_two_moves_of_one_name_say_where_each_leads(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    case = new_debit_case(ui_ctx, window)
    cases.move_case(ui_ctx, window.desk.actor, case.id, MoveRequest(Status.UNREACHABLE))
    open_case(qtbot, window, case.id)
    buttons = window.cases.detail.move_buttons()
    back, on = buttons["move_reached_received"].text(), buttons["move_reached_contacted"].text()
    assert back != on and "受付" in back and "案内済" in on
