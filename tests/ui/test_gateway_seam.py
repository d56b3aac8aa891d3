"""The window reaches the services only through the gateway, with names a centre
server can look up: every ``desk.call``/``desk.act`` in app/ui names a function of
app.services (never a lambda, a local helper or a bound method), and no page holds
an AppContext (``desk.ctx``), a session or a database."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from app.services import cases
from app.services.gateway import InProcessGateway, service_name
from app.ui.desk import Desk

UI = Path(__file__).resolve().parents[2] / "app" / "ui"


def _imported_names(tree: ast.Module) -> dict[str, str]:
    """name -> dotted origin for every ``import``/``from ... import`` of the module."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name] = alias.name
    return names


def _resolve(node: ast.expr, names: dict[str, str]):
    """The object a ``module.fn`` or imported ``fn`` expression names, or None."""
    if isinstance(node, ast.Name) and node.id in names:
        origin = names[node.id]
        module, _dot, attr = origin.rpartition(".")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            return importlib.import_module(origin)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id in names:
        target = _resolve(node.value, names)
        return getattr(target, node.attr, None)
    return None


def _desk_calls():
    for path in sorted(UI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = _imported_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("call", "act") \
                    and "desk" in ast.unparse(node.func.value):
                yield path.name, node, names


def test_every_desk_call_names_a_service_of_app_services():
    found, bad = 0, []
    for file, node, names in _desk_calls():
        found += 1
        where = f"{file}:{node.lineno}: {ast.unparse(node)[:80]}"
        if not node.args:
            bad.append(f"{where} (no service named)")
            continue
        service = _resolve(node.args[0], names)
        if not callable(service) or isinstance(service, type):
            bad.append(f"{where} (not a function of a module)")
            continue
        try:
            service_name(service)
        except ValueError as exc:
            bad.append(f"{where} ({exc})")
            continue
        if getattr(importlib.import_module(service.__module__), service.__name__,
                   None) is not service:
            bad.append(f"{where} (not a module-level function: a server cannot name it)")
        for arg in [*node.args[1:], *[k.value for k in node.keywords if k.arg not in (
                "on_done", "on_error", "task")]]:
            if isinstance(arg, ast.Lambda):
                bad.append(f"{where} (a callable passed to the service)")
    assert found > 40, "the scan found the pages' service calls"
    assert bad == []


def test_no_page_touches_a_context_session_or_database():
    offenders = []
    for path in sorted(UI.glob("*.py")):
        if path.name in ("application.py", "signin.py", "enrol_dialog.py", "desk.py"):
            # before sign-in there is no desk yet: these open the database; the desk
            # makes the in-process gateway from a context
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("desk.ctx", ".ctx.", "AppContext", ".db.", "Session("):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    assert offenders == []
    assert not hasattr(Desk, "ctx")


def test_the_gateway_refuses_what_is_not_a_service(ui_ctx):
    gateway = InProcessGateway(ui_ctx, None)
    with pytest.raises(ValueError, match="not a service"):
        gateway.read(lambda ctx: ctx)
    assert service_name(cases.move_case) == "cases.move_case"
