"""Every action the services write to the audit trail reads as words in the timeline and
the audit log, never as a code like 'operator.password_reset'."""

from __future__ import annotations

import re
from pathlib import Path

from app.core.i18n import set_locale
from app.domain.channels import PayoutKind
from app.domain.workflow import MOVES
from app.ui.labels import action_label

SERVICES = Path(__file__).resolve().parents[2] / "app" / "services"
LITERAL = re.compile(r'audit\.record\(\s*[^"]*?"([a-z_]+\.[a-z_]+)"', re.S)
BULK = re.compile(r'_audit_many\(\s*"([a-z_]+\.[a-z_]+)"')


def recorded_actions() -> set[str]:
    found: set[str] = set()
    for path in SERVICES.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(LITERAL.findall(text)) | set(BULK.findall(text))
    # Built at run time: failures by step, lists by payout kind, moves by name.
    found |= {f"operator.{what}_failed" for what in ("sign_in", "second_factor", "step_up")}
    found |= {f"payout.{kind.value}_list" for kind in (PayoutKind.CARD_CANCELLATION,
                                                        PayoutKind.NANACO)}
    found |= {f"case.{move.name}" for move in MOVES.values()}
    return found


def test_every_recorded_action_has_a_japanese_label():
    set_locale("ja")
    actions = recorded_actions()
    assert len(actions) > 40
    unlabelled = sorted(a for a in actions if action_label(a) == a or action_label(a).isascii())
    assert unlabelled == []


ENTITY = re.compile(r'audit\.record\(\s*[^"]*?"[a-z_]+\.[a-z_]+",\s*"([a-z_]+)"', re.S)
BULK_ENTITY = re.compile(r'_audit_many\(\s*"[a-z_]+\.[a-z_]+",\s*"([a-z_]+)"')


def test_every_audited_kind_of_record_is_named_in_japanese():
    from app.ui.labels import entity_text

    set_locale("ja")
    entities: set[str] = set()
    for path in SERVICES.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        entities |= set(ENTITY.findall(text)) | set(BULK_ENTITY.findall(text))
    assert {"case", "victim", "operator", "setting"} <= entities
    unnamed = sorted(e for e in entities if entity_text(e, 1).split()[0].isascii())
    assert unnamed == []
    assert entity_text("victim", 12) == "被害者 #12"
    assert entity_text("case", 914) == "案件"


def test_an_events_change_reads_as_words():
    from app.ui.labels import change_lines

    set_locale("ja")
    lines = change_lines({"status": "documents_received", "verified_amount": None},
                         {"status": "verified", "verified_amount": 30000, "kind": "nanaco",
                          "source": "import", "channel": "debit_charge", "batch_id": 4})
    assert lines == ["バッチ番号: 4", "被害区分: デビットカードチャージ", "方法: nanacoポイント",
                     "受付経路: 被害リスト取込", "状態: 書類受領 → 確認済",
                     "確認額: — → 30,000円"]


def test_letter_outreach_and_hold_events_read_as_words():
    from app.ui.labels import change_lines, payout_lines

    set_locale("ja")
    assert change_lines({}, {"kind": "guidance", "pages": 2}) == [
        "通知書: 補償手続きのご案内（申請書付き）", "ページ数: 2"]
    assert change_lines({}, {"method": "phone", "outcome": "no_answer",
                             "held_until": "2019-08-26T10:45:00+09:00"}) == [
        "受け持ち期限: 2019/08/26 10:45", "連絡方法: 電話", "結果: 応答なし"]
    assert payout_lines({"kind": "bank_account", "account_type": "ordinary"}) == [
        "方法: 銀行振込", "預金種目: 普通"]


def test_the_command_lines_own_actor_is_named_in_words():
    from app.ui.labels import actor_text

    set_locale("ja")
    assert actor_text("system") == "システム（コマンド操作）"
    assert actor_text("sato") == "sato"
