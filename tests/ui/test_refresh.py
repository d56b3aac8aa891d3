"""The window refreshes from what writes changed: hidden pages wait until shown, the
case list keeps its place, long work reports progress and stops when cancelled."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt

from app.domain.states import Status
from app.letters import LetterKind
from app.services import cases, operators, victims
from app.services.changes import Changed
from app.services.gateway import InProcessGateway, service_name
from app.services.intake import VictimInput
from app.services.letters import BatchRequest
from app.ui.desk import Desk
from app.ui.main_window import MainWindow
from app.ui.prompts import ScriptedPrompter
from app.ui.tasks import BackgroundTask
from tests.ui.conftest import settle


class CountingGateway(InProcessGateway):
    """The services in this process, counting each read by name."""

    def __init__(self, ctx, actor) -> None:
        super().__init__(ctx, actor)
        self.reads: Counter[str] = Counter()

    def read(self, service, *args, **kwargs):
        self.reads[service_name(service)] += 1
        return super().read(service, *args, **kwargs)


def window_for(qtbot, ctx, login="sv1"):
    view = next(o for o in operators.list_operators(ctx) if o.login == login)
    gateway = CountingGateway(ctx, view.as_actor())
    desk = Desk(gateway, prompter=ScriptedPrompter())
    window = MainWindow(desk, login)
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, desk)
    return window, gateway


def rename(ctx, actor, case_id: int, name: str) -> int:
    victim = cases.get_case(ctx, actor, case_id).victim
    return victim.id, (VictimInput(name=name, name_kana=victim.name_kana, phone=victim.phone,
                                   email=victim.email, postal_code=victim.postal_code,
                                   address=victim.address,
                                   contact_received_at=victim.contact_received_at),
                       victim.version)


def test_a_hidden_page_does_not_query_and_refreshes_once_when_shown(ui_app, qtbot, ui_ctx):
    window, gateway = window_for(qtbot, ui_ctx)
    assert window.stack.currentWidget() is window.cases
    case_id = window.cases.model.rows[0].id
    gateway.reads.clear()
    for text in ("一件目", "二件目"):  # two changes while the payouts and letters are hidden
        window.desk.act(cases.add_note, case_id, text)
        settle(qtbot, window.desk)
    assert gateway.reads["case_search.list_cases"] == 2  # the page on screen followed
    assert gateway.reads["payouts.page_data"] == 0
    assert gateway.reads["letters.list_batches"] == 0
    assert gateway.reads["queue.list_queue"] == 0

    window.show_page("payouts")
    settle(qtbot, window.desk)
    assert gateway.reads["payouts.page_data"] == 1  # once, for both changes
    window.show_page("letters")
    settle(qtbot, window.desk)
    assert gateway.reads["letters.list_batches"] == 1
    window.show_page("payouts")  # nothing changed since: no query
    settle(qtbot, window.desk)
    assert gateway.reads["payouts.page_data"] == 1


def test_the_letters_page_refreshes_its_batches_once_after_a_batch(ui_app, qtbot, ui_ctx,
                                                                  tmp_path):
    window, gateway = window_for(qtbot, ui_ctx, "op1")
    window.show_page("letters")
    page = window.letters
    page.folder.setText(str(tmp_path / "letters"))
    page.kind.setCurrentIndex(page.kind.findData(LetterKind.GUIDANCE.value))
    page.by_rule.setChecked(True)
    page.limit.setValue(2)
    settle(qtbot, window.desk)
    gateway.reads.clear()
    page.produce_button.click()
    qtbot.waitUntil(lambda: not page.running, timeout=20_000)
    settle(qtbot, window.desk)
    assert page.batch_table.rowCount() == 1
    assert gateway.reads["letters.list_batches"] == 1  # not twice


def test_the_case_list_keeps_its_place_through_a_change_made_elsewhere(ui_app, qtbot, ui_ctx):
    window, _gateway = window_for(qtbot, ui_ctx)
    table, model = window.cases.table, window.cases.model
    table.selectRow(40)
    settle(qtbot, window.desk)
    chosen, below = model.rows[40].id, model.rows[41].id
    assert window.cases.detail.case.id == chosen
    scroll = table.verticalScrollBar().value()
    assert scroll > 0
    resets = []
    model.modelReset.connect(lambda: resets.append(True))

    # Another page (the queue, an intake, a batch) changes two cases of the list.
    desk = window.desk
    victim_id, (data, version) = rename(ui_ctx, desk.actor, below, "改名 済子")
    desk.act(victims.update_victim, victim_id, data, version)
    desk.act(cases.add_note, chosen, "別の画面から")
    settle(qtbot, desk)
    qtbot.waitUntil(lambda: model.rows[41].name == "改名 済子", timeout=5000)
    assert model.data(model.index(41, 1)) == "改名 済子"  # the changed row shows its change
    assert resets == []  # no reset: the rows were refreshed in place
    assert table.currentIndex().row() == 40 and model.case_id(40) == chosen
    assert [i.row() for i in table.selectionModel().selectedRows()] == [40]
    assert table.verticalScrollBar().value() == scroll
    assert window.cases.detail.case.id == chosen

    window.next_case()  # Ctrl+J goes on from the current row, not from the top
    settle(qtbot, desk)
    assert table.currentIndex().row() == 41 and window.cases.detail.case.id == below


def test_the_selection_follows_its_case_when_a_change_moves_rows(ui_app, qtbot, ui_ctx):
    window, _gateway = window_for(qtbot, ui_ctx)
    table, model = window.cases.table, window.cases.model
    table.sortByColumn(1, Qt.SortOrder.AscendingOrder)  # by name
    settle(qtbot, window.desk)
    table.selectRow(10)
    settle(qtbot, window.desk)
    chosen, later = model.case_id(10), model.case_id(30)
    victim_id, (data, version) = rename(ui_ctx, window.desk.actor, later, "あ 先頭")
    window.desk.act(victims.update_victim, victim_id, data, version)
    settle(qtbot, window.desk)
    # The victim's cases sort first now (a victim can have several): the rows above the
    # chosen one grew, and the selection moved down with its case.
    qtbot.waitUntil(lambda: later in (model.case_id(0), model.case_id(1)), timeout=5000)
    row = table.currentIndex().row()
    assert row > 10 and model.case_id(row) == chosen
    assert [i.row() for i in table.selectionModel().selectedRows()] == [row]
    assert window.cases.detail.case.id == chosen


def test_a_change_reported_while_the_list_is_hidden_waits_for_the_list(ui_app, qtbot, ui_ctx):
    window, gateway = window_for(qtbot, ui_ctx)
    window.show_page("dashboard")
    settle(qtbot, window.desk)
    gateway.reads.clear()
    window.desk.changed.emit(Changed(cases=frozenset({window.cases.model.rows[0].id})))
    settle(qtbot, window.desk)
    assert gateway.reads["case_search.list_cases"] == 0
    window.show_page("cases")
    settle(qtbot, window.desk)
    assert gateway.reads["case_search.list_cases"] == 1


def test_a_background_task_reports_progress_and_stops_when_cancelled(ui_app, qtbot, ui_ctx,
                                                                     tmp_path):
    from app.services import letters

    window, _gateway = window_for(qtbot, ui_ctx, "op1")
    task = BackgroundTask(window)
    seen, done, failed = [], [], []
    task.progressed.connect(lambda d, t: seen.append((d, t)))
    request = BatchRequest(LetterKind.GUIDANCE, status=Status.RECEIVED, limit=3)
    window.desk.act(letters.produce_batch, request, tmp_path / "a.pdf", task=task,
                    on_done=done.append, on_error=failed.append)
    assert task.running
    qtbot.waitUntil(lambda: not task.running, timeout=20_000)
    assert failed == [] and len(done[0].letters) == 3
    assert seen and seen[-1] == (3, 3)  # the last count is shown before the end

    task.watch.cancel()  # a cancel before the next run starts belongs to no run
    window.desk.act(letters.produce_batch, request, tmp_path / "b.pdf", task=task,
                    on_done=done.append, on_error=failed.append)
    task.cancel()
    qtbot.waitUntil(lambda: not task.running, timeout=20_000)
    assert done[-1].cancelled and not (tmp_path / "b.pdf").exists()
