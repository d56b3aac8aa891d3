"""The demo's letters carry a complete sender block, postal address included; the
settings page shows it (pytest-qt)."""

from __future__ import annotations

from app.services import settings
from tests.ui.test_settings_page import open_page


def test_the_demo_sender_block_is_complete(ui_app, qtbot, ui_ctx):
    loaded = settings.get(ui_ctx)
    assert loaded.letter_sender_postal_code and loaded.letter_sender_address
    page = open_page(qtbot, ui_ctx, "admin")
    assert page.editors["letter_sender_address"].text() == loaded.letter_sender_address
    assert page.editors["letter_sender_postal_code"].text() == "102-0084"
