"""GUI fixtures: real widgets, offscreen, bundled fonts, a seeded database."""

from __future__ import annotations

import shutil

import pytest

from app.core.i18n import set_locale
from app.domain.roles import SYSTEM_ACTOR, Role
from app.services import demo, operators
from app.services.context import AppContext
from app.storage.db import Database
from app.ui.desk import Desk
from app.ui.fonts import apply_ui_font
from app.ui.prompts import ScriptedPrompter
from tests.conftest import PASSWORD


@pytest.fixture
def ui_app(qapp):
    apply_ui_font(qapp)
    set_locale("ja")
    yield qapp
    set_locale("ja")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, sqlite_template):
    """The demo programme plus test accounts, built once per test session."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    shutil.copy(sqlite_template, path)
    db = Database(str(path))
    ctx = AppContext(db)
    demo.build_demo(ctx, victims=120, seed=11)
    for login, role in [("op1", Role.OPERATOR), ("op2", Role.OPERATOR),
                        ("sv1", Role.SUPERVISOR), ("sv2", Role.SUPERVISOR)]:
        operators.add_operator(ctx, SYSTEM_ACTOR, login, login.upper(), role, PASSWORD)
    db.dispose()
    return path


@pytest.fixture
def ui_ctx(tmp_path, demo_template, clock):
    path = tmp_path / "ui.sqlite3"
    shutil.copy(demo_template, path)
    db = Database(str(path))
    yield AppContext(db, clock)
    db.dispose()


def make_desk(ctx, login: str, answers=None) -> Desk:
    view = next(o for o in operators.list_operators(ctx) if o.login == login)
    return Desk(ctx, view.as_actor(), ScriptedPrompter(answers))


def settle(qtbot, desk: Desk, timeout: int = 5000) -> None:
    """Wait until the database lane has answered everything asked of it."""
    qtbot.waitUntil(lambda: not desk.lane.busy, timeout=timeout)
