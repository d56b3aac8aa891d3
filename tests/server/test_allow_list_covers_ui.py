"""Every service a page of the window calls through its desk or gateway is on the
server's allow-list, with the kind the page calls it as: else the page works on a
single desk and fails at a centre (issue 15). Read from the source (ast), so a page
nobody opened in a centre test is covered all the same."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import app.ui
from app.server.allow import ALLOWED, READ, WRITE
from app.services import second_factor
from app.services.gateway import service_name

UI = Path(app.ui.__file__).parent
# desk.call / desk.act, gateway.read / gateway.write, and lane.submit(gateway.write, …)
KINDS = {"call": READ, "read": READ, "act": WRITE, "write": WRITE}
RECEIVERS = {"desk", "gateway"}
# Sign-in steps the remote gateway sends to the server's /auth routes, not to /call.
SIGN_IN_STEPS = {second_factor.unlock_session}


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _receiver(node: ast.AST) -> str | None:
    """``desk`` for self.desk.call / page.desk.act; ``gateway`` for self.gateway.read."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def service_calls() -> list[tuple[str, int, str, str]]:
    """(module, line, kind, service expression) for every service call in app/ui."""
    found = []
    for path in sorted(UI.glob("*.py")):
        module = f"app.ui.{path.stem}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            method, args = node.func.attr, node.args
            if method == "submit" and args and isinstance(args[0], ast.Attribute) \
                    and args[0].attr in ("read", "write") \
                    and _receiver(args[0].value) in RECEIVERS:
                method, args = args[0].attr, args[1:]  # lane.submit(gateway.write, service…)
            elif method not in KINDS or _receiver(node.func.value) not in RECEIVERS:
                continue
            if not args:
                continue
            expression = _dotted(args[0])
            assert expression, f"{module}:{node.lineno}: a service the scan cannot name"
            found.append((module, node.lineno, KINDS[method], expression))
    return found


def _resolve(module: str, expression: str):
    value = vars(importlib.import_module(module))
    head, *rest = expression.split(".")
    assert head in value, f"{module}: {expression} is not a name of the module"
    target = value[head]
    for part in rest:
        target = getattr(target, part)
    return target


def test_the_scan_finds_the_pages_calls():
    calls = {(module, expression) for module, _line, _kind, expression in service_calls()}
    # A few of each shape, so that a scan finding nothing cannot pass.
    assert ("app.ui.refunds_page", "refunds.confirm_identity") in calls
    assert ("app.ui.letters_page", "service.produce_batch") in calls
    assert ("app.ui.enrol_dialog", "second_factor.record_recovery_codes_kept") in calls
    assert ("app.ui.case_model", "list_cases") in calls
    assert len(calls) > 60


def test_every_service_the_window_calls_is_on_the_allow_list_as_the_window_calls_it():
    missing, wrong_kind = [], []
    for module, line, kind, expression in service_calls():
        service = _resolve(module, expression)
        if service in SIGN_IN_STEPS:
            continue
        name = service_name(service)
        entry = ALLOWED.get(name)
        if entry is None:
            missing.append(f"{name} ({module}:{line})")
        elif entry.kind != kind:
            wrong_kind.append(f"{name}: {kind} at {module}:{line}, {entry.kind} on the list")
    assert not missing, "not on app/server/allow.py:\n" + "\n".join(missing)
    assert not wrong_kind, "\n".join(wrong_kind)


def test_each_service_is_on_the_allow_list_once():
    """Blocks added by different hands (the window's, the command line's) must not name a
    service twice: the later entry would silently decide its kind, roles and files."""
    from collections import Counter

    from app.server.allow import _ENTRIES

    twice = [name for name, count in Counter(service_name(e.service) for e in _ENTRIES).items()
             if count > 1]
    assert twice == []
