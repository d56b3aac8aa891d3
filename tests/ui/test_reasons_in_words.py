"""Reasons the program writes are stored as codes and shown in the interface's
language; older rows still display as written (pytest-qt)."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.core.i18n import set_locale
from app.domain.reasons import reason_code, reason_words
from app.services import queue
from app.services.outreach import AttemptInput, Method, Outcome, record_attempt
from app.storage.models import AuditEvent
from app.ui.labels import reason_text
from tests.ui.conftest import make_desk, settle
from tests.ui.test_main_screens import window_for


def test_a_reached_victim_reason_is_a_code_worded_per_language(ui_app, qtbot, ui_ctx):
    op1 = make_desk(ui_ctx, "op1").actor
    held = queue.next_case(ui_ctx, op1)
    record_attempt(ui_ctx, op1, held.case_id, AttemptInput(Method.PHONE, Outcome.REACHED))
    with ui_ctx.db.read() as session:
        stored = session.execute(select(AuditEvent.reason).where(
            AuditEvent.case_id == held.case_id, AuditEvent.action.like("case.%"))
            .order_by(AuditEvent.id.desc())).scalars().first()
    assert json.loads(stored) == {"reason": "reached_by_outreach"}
    window = window_for(qtbot, ui_ctx, "sv1")
    window.open_case(held.case_id)
    settle(qtbot, window.desk)
    timeline = window.cases.detail.timeline
    reasons = [timeline.item(r, 4).text() for r in range(timeline.rowCount())]
    assert "架電で本人と連絡がついた" in reasons and stored not in reasons
    set_locale("en")
    assert reason_text(stored) == "reached by outreach"


def test_older_reasons_and_typed_ones_show_as_written():
    assert reason_text("reached by outreach") == "reached by outreach"
    assert reason_text("本人から電話で訂正") == "本人から電話で訂正"
    assert reason_text("{not json") == "{not json"
    assert reason_words(reason_code("letter_unanswered", days=14)) == (
        "案内状の発送後14日以上応答なし", "no answer 14 days after the guidance letter")
