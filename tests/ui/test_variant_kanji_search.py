"""Variant kanji fold in the search: 高橋 finds 髙橋, 崎 finds 﨑, 辺 finds 邊 and 邉,
斎 finds 齋; stored keys written before the fold are re-keyed by migration 0015."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from app.domain.text import search_key
from app.services import intake
from app.storage import migrate
from tests.services.helpers import incident, victim
from tests.ui.conftest import make_desk, settle
from tests.ui.test_main_screens import search, window_for

NAMES = ("髙橋 一郎", "山﨑 花子", "渡邊 次郎", "渡邉 三郎", "齋藤 四郎", "齊藤 五郎")


def add_victims(ctx):
    actor = make_desk(ctx, "op1").actor
    return {name: intake.take_phone_intake(
        ctx, actor, victim(name=name, phone=f"090-7000-{index:04d}"), incident()).case_number
        for index, name in enumerate(NAMES)}


def shown(window) -> set[str]:
    return {row.name for row in window.cases.model.rows}


def test_a_search_finds_the_variant_forms(ui_app, qtbot, ui_ctx):
    add_victims(ui_ctx)
    window = window_for(qtbot, ui_ctx)
    for typed, expected in (("高橋一郎", {"髙橋 一郎"}), ("山崎", {"山﨑 花子"}),
                            ("渡辺", {"渡邊 次郎", "渡邉 三郎"}), ("斎藤 四郎", {"齋藤 四郎"}),
                            ("斉藤五郎", {"齊藤 五郎"})):
        window.cases.search.clear()
        search(qtbot, window, typed)
        settle(qtbot, window.desk)
        assert expected <= shown(window), typed
    window.cases.search.clear()
    search(qtbot, window, "斉藤四郎")  # 斉 and 斎 are distinct surnames
    settle(qtbot, window.desk)
    assert "齋藤 四郎" not in shown(window)


def test_migration_rekeys_stored_keys(ui_ctx):
    add_victims(ui_ctx)
    with ui_ctx.db.engine.begin() as conn:  # keys as written before the fold
        conn.execute(text("UPDATE victim SET name_key = '髙橋一郎' WHERE name = '髙橋 一郎'"))
    config = migrate._config()
    engine = migrate._migration_engine(ui_ctx.db)  # as `hosho db upgrade`: no FK cascade on a copy
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0014")
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    with ui_ctx.db.engine.connect() as conn:
        key = conn.execute(text("SELECT name_key FROM victim WHERE name = '髙橋 一郎'")).scalar()
    assert key == search_key("高橋 一郎") == "高橋一郎"
