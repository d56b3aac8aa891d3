"""The words of reconciliation: its figures and the kinds of difference it lists, in
the order they are shown. The service computes them; the PDF, the CSV, the command and
the window name them from here."""

from __future__ import annotations

FIGURES = ("cases", "claimed", "verified", "approved", "requested", "paid", "returned")
FIGURES_JA = {"cases": "件数", "claimed": "請求額", "verified": "確認額", "approved": "承認額",
              "requested": "支払手続中", "paid": "支払額", "returned": "返却額"}

DIFFERENCES_JA = {
    "paid_without_payment": "補償済なのに支払記録がない",
    "payment_amount": "支払記録の金額が支払額と違う",
    "paid_not_approved_amount": "支払額が承認額と違う",
    "payment_on_unpaid_case": "未払の案件に支払記録がある",
    "item_amount": "振込金額が承認額と違う",
    "paid_unbacked": "支払額が1件の振込結果・確認で裏付けられていない（裏付けの件数）",
    "paid_backing_amount": "支払額が振込結果・確認の金額と違う",
    "done_on_unpaid_case": "振込済・確認済なのに案件が補償済でない",
    "live_transfer_case_state": "有効な振込があるのに案件が支払手続中でない",
    "live_request_case_state": "有効な依頼があるのに案件が支払手続中でない",
    "live_item_cancelled_batch": "取消済のバッチに有効な振込がある",
    "requested_without_rail": "支払手続中なのに有効な振込・依頼がない",
    "item_destination": "振込先がバッチ作成後の支払先と違う",
    "live_transfer_other_rail": "有効な振込が案件の支払方法（レール）と違う",
    "live_request_other_rail": "有効な依頼が案件の支払方法（レール）と違う",
    "live_on_two_rails": "有効な振込と依頼が同時にある（二重の支払）",
    "rail_without_payout": "支払方法（レール）に入っているのに有効な振込・依頼がない",
    "batch_total": "バッチ合計が振込の合計と違う",
    "programme_total": "全体合計が区分別の合計と違う",
    # The balance-refund programme beside compensation (app.services.refunds_overlap).
    "both_programmes_excess": "補償と残高払戻の合計がチャージと残高で許される額を超える",
    "refund_payment_amount": "払戻の支払額が払戻額と違う",
}
