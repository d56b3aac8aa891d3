"""The settings page: administrators change settings after confirming; others only look."""

from __future__ import annotations

from sqlmodel import select

from app.services import settings
from app.storage.models import AuditEvent
from app.ui.settings_page import SettingsPage
from tests.ui.conftest import make_desk, settle


def open_page(qtbot, ctx, login, answers=None) -> SettingsPage:
    page = SettingsPage(make_desk(ctx, login, answers))
    qtbot.addWidget(page)
    page.show()
    settle(qtbot, page.desk)
    return page


def test_operators_see_but_cannot_change(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx, "op1")
    assert page.editors["queue_hold_minutes"].value() == 15
    assert not page.editors["queue_hold_minutes"].isEnabled()
    assert not page.save_button.isEnabled()
    assert page.note.text()


def test_admin_changes_after_confirming_and_it_is_audited(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx, "admin", answers=[False, True])
    page.editors["queue_hold_minutes"].setValue(30)
    page.editors["failed_attempts_before_letter"].setValue(4)
    page.save()  # declined
    settle(qtbot, page.desk)
    assert settings.get(ui_ctx).queue_hold_minutes == 15
    with qtbot.waitSignal(page.saved, timeout=5000):
        page.save()
    assert "30" in page.desk.prompter.asked[-1][1]
    loaded = settings.get(ui_ctx)
    assert (loaded.queue_hold_minutes, loaded.failed_attempts_before_letter) == (30, 4)
    with ui_ctx.db.read() as session:
        actions = session.exec(select(AuditEvent.actor_login).where(  # the demo's own
            AuditEvent.action == "setting.change", AuditEvent.actor_login != "system")).all()
    assert actions == ["admin", "admin"]


def test_zero_is_not_offered_where_it_makes_no_sense(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx, "admin")
    assert page.editors["queue_hold_minutes"].minimum() == 1
    assert page.editors["documents_reminder_days"].minimum() == 0


def test_words_are_chosen_from_a_list_that_reads_in_japanese(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx, "admin", answers=[True])
    style = page.editors["letter_date_style"]
    assert [style.itemText(i) for i in range(style.count())] == [
        "西暦（2019年8月19日）", "和暦（令和元年8月19日）"]
    style.setCurrentIndex(style.findData("era"))
    with qtbot.waitSignal(page.saved, timeout=5000):
        page.save()
    assert "西暦（2019年8月19日） → 和暦（令和元年8月19日）" in page.desk.prompter.asked[-1][1]
    assert settings.get(ui_ctx).letter_date_style == "era"


def test_a_word_outside_the_choices_is_refused_when_saved(ui_ctx):
    import pytest

    from app.core.errors import ValidationError
    from app.domain.roles import SYSTEM_ACTOR

    with pytest.raises(ValidationError) as refused:
        settings.change(ui_ctx, SYSTEM_ACTOR, "zengin_line_end", "bogus")
    assert "crlf / lf / none" in refused.value.ja
    settings.change(ui_ctx, SYSTEM_ACTOR, "zengin_line_end", " LF ")
    assert settings.get(ui_ctx).zengin_line_end == "lf"


def _choices(box) -> dict[str, str]:
    return {box.itemData(i): box.itemText(i) for i in range(box.count())}


def test_line_ends_say_which_some_banks_refuse(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx, "admin")
    shown = _choices(page.editors["zengin_line_end"])
    assert "一部の銀行" in shown["lf"] and "一部の銀行" in shown["none"]
    assert "一部の銀行" not in shown["crlf"]


def test_the_sender_account_type_offers_only_what_the_header_takes(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx, "admin")
    assert _choices(page.editors["zengin_account_type"]) == {
        "ordinary": "普通預金", "current": "当座預金", "other": "その他"}


def test_refusals_name_the_settings_as_the_page_labels_them(ui_app, qtbot, ui_ctx):
    from PySide6.QtWidgets import QFormLayout

    from app.core.i18n import set_locale
    from app.domain.settings import LABELS as MESSAGE_LABELS  # what refusals name

    for locale, index in (("ja", 0), ("en", 1)):
        set_locale(locale)
        try:
            page = open_page(qtbot, ui_ctx, "admin")
            form = page.findChild(QFormLayout)
            for key, labels in MESSAGE_LABELS.items():
                row = form.labelForField(page.editors[key])
                assert row.text() == labels[index]
        finally:
            set_locale("ja")


def test_a_company_code_too_long_is_refused_by_its_label(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx, "admin", answers=[True])
    page.editors["zengin_company_code"].setText("12345678901")
    page.save()
    settle(qtbot, page.desk)
    assert page.desk.prompter.errors and "総合振込：委託者コード" in page.desk.prompter.errors[-1]
    assert "10桁" in page.desk.prompter.errors[-1]
    assert settings.get(ui_ctx).zengin_company_code == ""


def test_a_page_that_showed_an_older_value_is_refused_and_reloads(ui_app, qtbot, ui_ctx):
    """Two administrators with the page open: the second save names the setting the
    first changed, overwrites nothing, and the page then shows what is stored."""
    first = open_page(qtbot, ui_ctx, "admin", answers=[True])
    second = open_page(qtbot, ui_ctx, "admin", answers=[True])
    first.editors["queue_hold_minutes"].setValue(30)
    with qtbot.waitSignal(first.saved, timeout=5000):
        first.save()
    second.editors["queue_hold_minutes"].setValue(45)
    second.editors["documents_reminder_days"].setValue(20)
    with qtbot.waitSignal(second.loaded, timeout=5000):
        second.save()
    assert len(second.desk.prompter.errors) == 1
    refusal = second.desk.prompter.errors[0]
    assert "他の操作者が先に更新しました" in refusal and "キューの受け持ち時間（分）" in refusal
    assert "書類" not in refusal  # the key nobody else touched is not named
    assert second.editors["queue_hold_minutes"].value() == 30  # the fresh value is shown
    assert second.editors["documents_reminder_days"].value() == 14
    stored = settings.get(ui_ctx)
    assert (stored.queue_hold_minutes, stored.documents_reminder_days) == (30, 14)
    with ui_ctx.db.read() as session:
        changes = session.exec(select(AuditEvent.after).where(
            AuditEvent.action == "setting.change", AuditEvent.actor_login != "system")).all()
    assert changes == ['{"queue_hold_minutes": 30}']
