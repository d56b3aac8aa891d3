"""GUI fixtures: real widgets, offscreen, bundled fonts, a seeded database."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from app.core.clock import JST, FixedClock
from app.core.i18n import set_locale
from app.domain.roles import SYSTEM_ACTOR, Role
from app.services import demo, operators
from app.services.context import AppContext
from app.storage.db import Database
from app.ui.desk import Desk
from app.ui.fonts import apply_ui_font
from app.ui.prompts import ScriptedPrompter
from tests.conftest import PASSWORD, enrol_second_factor


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
    # Supervisors enrolled their authenticator an hour before the tests' clock time.
    enrol_ctx = AppContext(db, FixedClock(datetime(2019, 8, 20, 9, 0, tzinfo=JST)))
    for login, role in [("op1", Role.OPERATOR), ("op2", Role.OPERATOR),
                        ("sv1", Role.SUPERVISOR), ("sv2", Role.SUPERVISOR)]:
        view = operators.add_operator(ctx, SYSTEM_ACTOR, login, login.upper(), role, PASSWORD)
        if view.totp_required:
            enrol_second_factor(enrol_ctx, view.as_actor())
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
    qtbot.waitUntil(lambda: not desk.lane.busy and not desk.clock.busy, timeout=timeout)
