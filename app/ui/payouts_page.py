"""The payouts area: refund batches and transfer files, card-company and nanaco
lists, and the reconciliation. Every action is a service call on the lane; the
page never touches the database. File dialogs are the desk's prompter's; the page
refreshes from what the desk says changed (app.ui.refresh)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import PermissionDenied, UserError
from app.core.i18n import N_, _, error_text, format_day, format_yen
from app.domain.batches import refund_batch_actions
from app.domain.channels import Channel
from app.domain.roles import Role
from app.services import payouts, reconcile
from app.services.gateway import FileOut
from app.ui.desk import Desk
from app.ui.labels import channel_label
from app.ui.refresh import follow_changes, touches_payouts
from app.ui.step_up import ask_fresh_code
from app.ui.tables import fill_table, make_table

BATCH_STATUS = {"built": N_("Built"), "released": N_("Released"), "sent": N_("Sent"),
                "cancelled": N_("Cancelled")}
RESULTS = {"done": N_("Done"), "returned": N_("Returned")}
BATCH_HEADERS = (N_("Batch"), N_("Status"), N_("Transfer date"), N_("Transfers"), N_("Total"),
                 N_("Built by"), N_("Released by"), N_("Done"), N_("Returned"), N_("Pending"))
ITEM_HEADERS = (N_("No."), N_("Case number"), N_("Channel"), N_("Amount"), N_("Bank"),
                N_("Branch"), N_("Account"), N_("Holder (kana)"), N_("Result"), N_("Reason"),
                N_("Check"))
REQUEST_HEADERS = (N_("Case number"), N_("List"), N_("Card issuer"), N_("Amount"))
FIGURE_HEADERS = (N_("Case count"), N_("Claimed amount"), N_("Verified amount"),
                  N_("Approved amount"), N_("Requested amount"), N_("Paid amount"),
                  N_("Returned amount"))
RECON_BATCH_HEADERS = (N_("Batch"), N_("Status"), N_("Recorded total"), N_("Transfers total"),
                       N_("Done"), N_("Returned"), N_("Pending"), N_("Difference"))
DIFF_HEADERS = (N_("Case number"), N_("Difference"), N_("Expected"), N_("Found"))


def _table(name: str, headers: tuple[str, ...]) -> QTableWidget:
    return make_table(name, headers, row_height=22, stretch_last=False)


def _fill(table: QTableWidget, rows: list[list[object]], right: set[int] = frozenset()) -> None:
    fill_table(table, rows, right)
    table.resizeColumnsToContents()


def _button(text: str, name: str, slot) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.clicked.connect(slot)
    return button


class PayoutsPage(QWidget):
    title = "Payouts"

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.batches: list[payouts.BatchView] = []
        self.items: list[payouts.ItemView] = []
        self.requests: list[payouts.RequestView] = []
        self.report: reconcile.Reconciliation | None = None
        layout = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setObjectName("payoutsStatus")
        self.status.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._batches_tab(), _("Refund batches"))
        self.tabs.addTab(self._lists_tab(), _("Card companies and nanaco"))
        self.tabs.addTab(self._reconcile_tab(), _("Reconciliation"))
        layout.addWidget(self.tabs)
        layout.addWidget(self.status)
        follow_changes(self, desk, touches_payouts, self.refresh)
        self.refresh()

    # -- layout ------------------------------------------------------------------
    def _batches_tab(self) -> QWidget:
        tab = QWidget()
        box = QVBoxLayout(tab)
        top = QHBoxLayout()
        self.waiting = QLabel()
        self.waiting.setObjectName("waitingLabel")
        self.channel = QComboBox()
        self.channel.setObjectName("batchChannel")
        self.channel.addItem(_("All transfer channels"), None)
        for channel in payouts.TRANSFER_CHANNELS:
            self.channel.addItem(channel_label(channel), channel)
        top.addWidget(self.waiting, 1)
        top.addWidget(self.channel)
        self.build_button = _button(_("Build batch…"), "buildBatch", self.build_batch)
        top.addWidget(self.build_button)
        box.addLayout(top)
        self.batch_table = _table("batchTable", BATCH_HEADERS)
        self.batch_table.itemSelectionChanged.connect(self._batch_selected)
        box.addWidget(self.batch_table, 2)
        actions = QHBoxLayout()
        self.release_button = _button(_("Release…"), "releaseBatch", self.release_batch)
        self.export_button = _button(_("Export transfer file…"), "exportBatch", self.export_batch)
        self.sent_button = _button(_("Mark sent"), "markSent", self.mark_sent)
        self.cancel_button = _button(_("Cancel batch…"), "cancelBatch", self.cancel_batch)
        self.import_button = _button(_("Import results…"), "importResults", self.import_results)
        for button in (self.release_button, self.export_button, self.sent_button,
                       self.cancel_button, self.import_button):
            actions.addWidget(button)
        # Building, releasing and cancelling are a supervisor's (the service refuses
        # the others): an operator is not shown buttons that can only refuse.
        for button in (self.build_button, self.release_button, self.cancel_button):
            button.setVisible(self.may_supervise())
        actions.addStretch(1)
        box.addLayout(actions)
        self.item_table = _table("itemTable", ITEM_HEADERS)
        box.addWidget(self.item_table, 3)
        results = QHBoxLayout()
        self.done_button = _button(_("Transfer done"), "resultDone", self.result_done)
        self.returned_button = _button(_("Transfer returned…"), "resultReturned",
                                       self.result_returned)
        results.addWidget(self.done_button)
        results.addWidget(self.returned_button)
        results.addStretch(1)
        box.addLayout(results)
        return tab

    def _lists_tab(self) -> QWidget:
        tab = QWidget()
        box = QVBoxLayout(tab)
        row = QHBoxLayout()
        self.issuer = QComboBox()
        self.issuer.setObjectName("cardIssuer")
        row.addWidget(QLabel(_("Card issuer")))
        row.addWidget(self.issuer, 1)
        self.card_button = _button(_("Write cancellation list…"), "cardList", self.card_list)
        row.addWidget(self.card_button)
        self.nanaco_label = QLabel()
        row.addWidget(self.nanaco_label)
        self.nanaco_button = _button(_("Write nanaco list…"), "nanacoList", self.nanaco_list)
        row.addWidget(self.nanaco_button)
        # Exports of personal data or payment files are supervisor moves (the service
        # refuses the others; the buttons say so first).
        for button in (self.card_button, self.nanaco_button):
            button.setEnabled(self.may_export())
        box.addLayout(row)
        box.addWidget(QLabel(_("Requests waiting for confirmation")))
        self.request_table = _table("requestTable", REQUEST_HEADERS)
        box.addWidget(self.request_table, 1)
        actions = QHBoxLayout()
        actions.addWidget(_button(_("Confirmed (paid)"), "confirmRequest", self.confirm_request))
        actions.addWidget(_button(_("Refused…"), "refuseRequest", self.refuse_request))
        withdraw = _button(_("Withdraw request…"), "withdrawRequest", self.withdraw_request)
        withdraw.setVisible(self.may_supervise())
        actions.addWidget(withdraw)
        actions.addStretch(1)
        box.addLayout(actions)
        return tab

    def _reconcile_tab(self) -> QWidget:
        tab = QWidget()
        box = QVBoxLayout(tab)
        self.verdict = QLabel()
        self.verdict.setObjectName("reconcileVerdict")
        row = QHBoxLayout()
        row.addWidget(self.verdict, 1)
        row.addWidget(_button(_("Export CSV…"), "reconcileCsv", self.reconcile_csv))
        row.addWidget(_button(_("Export PDF…"), "reconcilePdf", self.reconcile_pdf))
        box.addLayout(row)
        self.figure_table = _table("figureTable", FIGURE_HEADERS)
        self.figure_table.verticalHeader().setVisible(True)
        box.addWidget(self.figure_table, 2)
        self.recon_batches = _table("reconcileBatches", RECON_BATCH_HEADERS)
        box.addWidget(self.recon_batches, 2)
        self.diff_table = _table("differenceTable", DIFF_HEADERS)
        box.addWidget(self.diff_table, 1)
        return tab

    # -- hooks tests replace -------------------------------------------------------
    def may_supervise(self) -> bool:
        actor = self.desk.actor
        return actor.is_system or actor.role is Role.SUPERVISOR

    def may_export(self) -> bool:
        actor = self.desk.actor
        return actor.is_system or actor.role in (Role.SUPERVISOR, Role.ADMIN)

    def _ask_save(self, caption: str, suggested: str, pattern: str) -> str | None:
        return self.desk.prompter.save_file(self, caption, suggested, pattern)

    def _ask_open(self, caption: str, pattern: str) -> str | None:
        return self.desk.prompter.open_file(self, caption, pattern)

    # -- loading --------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        self.desk.call(payouts.page_data, on_done=self._loaded, on_error=self._failed)

    def _loaded(self, data: payouts.PayoutsOverview) -> None:
        selected = self.selected_batch()
        self.batches = data.batches
        waiting = data.waiting
        total = sum(waiting.values())
        detail = "、".join(f"{channel_label(Channel(k))} {v:,}" for k, v in waiting.items())
        self.waiting.setText(_("Approved cases waiting for a transfer: {count}").format(
            count=f"{total:,}") + (f"（{detail}）" if detail else ""))
        _fill(self.batch_table, [
            [b.id, _(BATCH_STATUS[b.status]), format_day(b.transfer_date), b.item_count,
             format_yen(b.total_amount), b.built_by or "", b.released_by or "", b.done,
             b.returned, b.pending] for b in self.batches], {3, 4, 7, 8, 9})
        self.issuer.clear()
        for issuer, count in data.issuers.items():
            self.issuer.addItem(f"{issuer}（{count:,}）", issuer)
        self.nanaco_label.setText(_("nanaco waiting: {count}").format(
            count=f"{data.nanaco:,}"))
        self.requests = data.requests
        _fill(self.request_table, [
            [r.case_number, r.list_id, r.card_issuer or "nanaco", format_yen(r.amount)]
            for r in self.requests], {3})
        self._show_report(data.report)
        if selected is not None:
            # Keep the operator's row; refresh its buttons and transfers either way.
            self.batch_table.blockSignals(True)
            self.select_batch(selected.id)
            self.batch_table.blockSignals(False)
        self._batch_selected()

    def _show_report(self, report: reconcile.Reconciliation) -> None:
        self.report = report
        rows = [*[(channel_label(Channel(k)), f) for k, f in report.by_channel.items()],
                (_("Total"), report.total)]
        _fill(self.figure_table, [
            [f"{f.cases:,}", *[format_yen(getattr(f, k)) for k in reconcile.FIGURES[1:]]]
            for _label, f in rows], set(range(7)))
        self.figure_table.setVerticalHeaderLabels([label for label, _f in rows])
        _fill(self.recon_batches, [
            [b.batch_id, _(BATCH_STATUS[b.status]), format_yen(b.recorded_total),
             format_yen(b.items_total), format_yen(b.done), format_yen(b.returned),
             format_yen(b.pending), format_yen(b.difference)] for b in report.batches],
              set(range(2, 8)))
        _fill(self.diff_table, [
            [d.case_number, reconcile.DIFFERENCES_JA[d.what], format_yen(d.expected),
             format_yen(d.found)] for d in report.differences], {2, 3})
        self.verdict.setText(_("Balanced: every total agrees.") if report.balanced else
                             _("{count} differences found").format(
                                 count=len(report.differences)))

    def selected_batch(self) -> payouts.BatchView | None:
        rows = self.batch_table.selectionModel().selectedRows() if self.batch_table.model() \
            else []
        if not rows or rows[0].row() >= len(self.batches):
            return None
        return self.batches[rows[0].row()]

    def select_batch(self, batch_id: int) -> None:
        for index, batch in enumerate(self.batches):
            if batch.id == batch_id:
                self.batch_table.selectRow(index)
                return

    @Slot()
    def _batch_selected(self) -> None:
        batch = self.selected_batch()
        # The domain's table says which actions the batch's state allows.
        open_now = refund_batch_actions(batch.status, bool(batch.exported_at)) if batch \
            else frozenset()
        self.release_button.setEnabled("release" in open_now)
        self.export_button.setEnabled("export" in open_now and self.may_export())
        self.sent_button.setEnabled("mark_sent" in open_now)
        self.cancel_button.setEnabled("cancel" in open_now)
        for button in (self.import_button, self.done_button, self.returned_button):
            button.setEnabled("enter_results" in open_now)
        if batch is None:
            self.items = []
            _fill(self.item_table, [])
            return
        self.desk.call(payouts.batch_items, batch.id, on_done=self._items_loaded,
                       on_error=self._failed)

    def _items_loaded(self, items: list[payouts.ItemView]) -> None:
        self.items = items
        _fill(self.item_table, [
            [i.seq, i.case_number, _("Balance refund") if i.programme == "balance_refund"
             else channel_label(Channel(i.channel)), format_yen(i.amount),
             i.bank_code, i.branch_code, i.account, i.holder,
             _(RESULTS[i.result]) if i.result else "", i.reason or "",
             _("Holder name differs") if i.name_mismatch else ""] for i in items], {0, 3})

    def selected_item(self) -> payouts.ItemView | None:
        rows = self.item_table.selectionModel().selectedRows()
        return self.items[rows[0].row()] if rows and rows[0].row() < len(self.items) else None

    # -- actions --------------------------------------------------------------------------
    def _changed(self, message: str):
        def done(_result=None) -> None:
            self.say(message)  # the desk's ``changed`` refreshes the page
        return done

    def _failed(self, exc: Exception) -> None:
        self.say(error_text(exc), error=True)
        self.desk.prompter.error(self, error_text(exc))

    def say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if error else "")

    @Slot()
    def build_batch(self) -> None:
        """Preview first (off the GUI thread), then build exactly what was shown."""
        channel = self.channel.currentData()
        self.desk.act(payouts.build_preview, channel=channel, on_error=self._failed,
                      on_done=lambda found: self._confirm_build(channel, *found))

    def _confirm_build(self, channel, preview: payouts.BatchPreview, earliest) -> None:
        if not preview.count:
            self._failed(UserError(
                "振込データにできる承認済の案件がありません。" + "".join(
                    f"\n{r}" for r in preview.refused[:5]),
                "No approved case can go into a transfer file."))
            return
        day = self.desk.prompter.choose_batch(self, preview, earliest)
        if day is None:
            return
        expected = replace(preview, transfer_date=day)
        self.desk.act(payouts.build_batch, channel=channel, transfer_date=day,
                      expected=expected, on_error=self._failed,
                      on_done=lambda b: self._changed(_(
                          "Batch {id} built: {count} transfers, {total}, transfer date {day}"
                      ).format(id=b.id, count=b.item_count, total=format_yen(b.total_amount),
                               day=format_day(b.transfer_date)))())

    @Slot()
    def release_batch(self) -> None:
        """The moment money leaves: a confirmation that states the money, then a code."""
        batch = self.selected_batch()
        if batch is None:
            return
        if batch.built_by == self.desk.actor.login:  # said before any question (four eyes)
            self._failed(PermissionDenied(
                "バッチを作成した本人は承認できません（二者確認）。別のスーパーバイザーが承認してください。",
                "The supervisor who built a batch cannot release it (four eyes)."))
            return
        text = _("Release batch {id}: {count} transfers, {total}, on {day}? Each case moves to "
                 "payout requested.").format(id=batch.id, count=batch.item_count,
                                             total=format_yen(batch.total_amount),
                                             day=format_day(batch.transfer_date))
        if not self.desk.prompter.confirm(self, _("Release batch"), text):
            return
        code = ask_fresh_code(self, self.desk)
        if code is None:
            return
        self.desk.act(payouts.release_batch, batch.id, second_factor=code or None,
                      on_error=self._failed,
                      on_done=self._changed(_("Batch {id} released").format(id=batch.id)))

    @Slot()
    def cancel_batch(self) -> None:
        batch = self.selected_batch()
        if batch is None:
            return
        reason = self.desk.prompter.ask_text(self, _("Cancel batch"),
                                             _("Why is this batch cancelled?"))
        if not reason:
            return
        self.desk.act(payouts.cancel_batch, batch.id, reason, on_error=self._failed,
                      on_done=self._changed(_("Batch {id} cancelled").format(id=batch.id)))

    @Slot()
    def export_batch(self) -> None:
        """The sender settings are checked before a file name or a code is asked."""
        batch = self.selected_batch()
        if batch is None:
            return
        self.desk.call(payouts.check_sender, on_error=self._failed,
                       on_done=lambda _ok: self._export_to(batch))

    def _export_to(self, batch: payouts.BatchView) -> None:
        path = self._ask_save(_("Save transfer file"), f"furikomi-{batch.id}.txt",
                              _("Transfer files (*.txt *.dat)"))
        if not path:
            return
        code = ask_fresh_code(self, self.desk)  # a payment file: step-up first
        if code is None:
            return
        self.desk.act(payouts.export_batch, batch.id, FileOut(path),
                      second_factor=code or None,
                      on_error=self._failed,
                      on_done=self._changed(_("Transfer file written: {path}").format(
                          path=path)))

    @Slot()
    def mark_sent(self) -> None:
        batch = self.selected_batch()
        if batch is None or not self.desk.prompter.confirm(
                self, _("Mark sent"), _("Was the file of batch {id} sent to the bank?").format(
                    id=batch.id)):
            return
        self.desk.act(payouts.mark_sent, batch.id, on_error=self._failed,
                      on_done=self._changed(_("Batch {id} marked sent").format(id=batch.id)))

    def _enter(self, entries: list[payouts.ResultEntry]) -> None:
        batch = self.selected_batch()
        if batch is None:
            return
        self.desk.act(payouts.record_results, batch.id, entries, on_error=self._failed,
                      on_done=lambda s: self._changed(_(
                          "Results entered: {done} done, {returned} returned").format(
                              done=len(s.done), returned=len(s.returned)))())

    @Slot()
    def result_done(self) -> None:
        item = self.selected_item()
        if item is not None:
            self._enter([payouts.ResultEntry(str(item.seq), "done")])

    @Slot()
    def result_returned(self) -> None:
        item = self.selected_item()
        if item is None:
            return
        reason = self.desk.prompter.ask_text(
            self, _("Transfer returned"),
            _("Reason given by the bank (e.g. closed account, name mismatch):"))
        if reason:
            self._enter([payouts.ResultEntry(str(item.seq), "returned", reason)])

    @Slot()
    def import_results(self) -> None:
        path = self._ask_open(_("Bank results (CSV)"), _("CSV files (*.csv)"))
        if not path:
            return
        try:
            entries = payouts.read_results_csv(path)
        except Exception as exc:  # a file the user picked: say why, do not crash
            self._failed(exc)
            return
        self._enter(entries)

    @Slot()
    def card_list(self) -> None:
        issuer = self.issuer.currentData()
        if not issuer:
            return
        path = self._ask_save(_("Save cancellation list"), f"cancel-{issuer}.csv",
                              _("CSV files (*.csv)"))
        code = ask_fresh_code(self, self.desk) if path else None  # personal data
        if code is not None:
            self.desk.act(payouts.card_cancellation_list, issuer, FileOut(path),
                          second_factor=code or None, on_error=self._failed,
                          on_done=lambda n: self._changed(_(
                              "Cancellation list written: {count} cases").format(count=n))())

    @Slot()
    def nanaco_list(self) -> None:
        path = self._ask_save(_("Save nanaco list"), "nanaco-reinstatement.csv",
                              _("CSV files (*.csv)"))
        code = ask_fresh_code(self, self.desk) if path else None  # personal data
        if code is not None:
            self.desk.act(payouts.nanaco_list, FileOut(path), second_factor=code or None,
                          on_error=self._failed,
                          on_done=lambda n: self._changed(_(
                              "nanaco list written: {count} cases").format(count=n))())

    def _selected_request(self) -> payouts.RequestView | None:
        rows = self.request_table.selectionModel().selectedRows()
        return self.requests[rows[0].row()] if rows and rows[0].row() < len(self.requests) \
            else None

    @Slot()
    def confirm_request(self) -> None:
        request = self._selected_request()
        if request is not None:
            self.desk.act(payouts.confirm_request, request.case_id, on_error=self._failed,
                          on_done=self._changed(_("{case}: paid").format(
                              case=request.case_number)))

    @Slot()
    def refuse_request(self) -> None:
        request = self._selected_request()
        if request is None:
            return
        reason = self.desk.prompter.ask_text(self, _("Refused"), _("Reason:"))
        if reason:
            self.desk.act(payouts.confirm_request, request.case_id, done=False, reason=reason,
                          on_error=self._failed,
                          on_done=self._changed(_("{case}: back to approved").format(
                              case=request.case_number)))

    @Slot()
    def withdraw_request(self) -> None:
        request = self._selected_request()
        if request is None:
            return
        reason = self.desk.prompter.ask_text(
            self, _("Withdraw request"),
            _("Why is the request for {case} given up? The case goes back to approved.").format(
                case=request.case_number))
        if reason:
            self.desk.act(payouts.withdraw_request, request.case_id, reason,
                          on_error=self._failed,
                          on_done=self._changed(_("{case}: back to approved").format(
                              case=request.case_number)))

    @Slot()
    def reconcile_csv(self) -> None:
        path = self._ask_save(_("Save reconciliation"), "reconciliation.csv",
                              _("CSV files (*.csv)"))
        if path and self.report is not None:
            self.desk.locally(reconcile.write_csv, self.report, path, on_error=self._failed,
                           on_done=lambda _r: self.say(_("Saved: {path}").format(path=path)))

    @Slot()
    def reconcile_pdf(self) -> None:
        path = self._ask_save(_("Save reconciliation"), "reconciliation.pdf",
                              _("PDF files (*.pdf)"))
        if path and self.report is not None:
            self.desk.locally(reconcile.write_pdf, self.report, path, on_error=self._failed,
                           on_done=lambda _r: self.say(_("Saved: {path}").format(path=path)))
