"""One primitive for a change of state (issue #14): no service sets a case's status
except ``cases.apply_move``, found by reading the services' source; and the batch
tables of app/domain decide what the services and the window allow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.core.errors import MoveNotAllowed
from app.domain.batches import check_refund_batch, check_result, refund_batch_actions

SERVICES = Path(__file__).resolve().parents[2] / "app" / "services"
# The demo writes a synthetic history in bulk, each step checked by check_move.
EXEMPT = {"demo.py", "demo_rails.py"}
# Batches, lists and 払出証書 have states of their own (app.domain.batches, refunds).
BATCH_NAMES = {"batch", "listing", "order"}


def _status_writes(tree: ast.AST):
    """(function, line) of every assignment to ``<name>.status`` and every
    ``.values(status=...)`` / ``update(status=...)`` call."""
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef):
            continue
        for node in ast.walk(func):
            targets = []
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    targets += target.elts if isinstance(target, ast.Tuple) else [target]
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status" and not (
                        isinstance(target.value, ast.Name) and target.value.id in BATCH_NAMES):
                    found.append((func.name, node.lineno))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("values", "update") \
                    and any(k.arg == "status" for k in node.keywords):
                found.append((func.name, node.lineno))
    return found


def test_no_service_changes_a_case_status_but_the_primitive():
    offenders = []
    for path in sorted(SERVICES.glob("*.py")):
        if path.name in EXEMPT:
            continue
        for func, line in _status_writes(ast.parse(path.read_text(encoding="utf-8"))):
            if (path.name, func) != ("cases.py", "apply_move"):
                offenders.append(f"{path.name}:{line} in {func}")
    assert offenders == []


def test_the_check_finds_a_status_written_by_hand():
    planted = ast.parse("def sneaky(case):\n    case.status = 'paid'\n")
    assert _status_writes(planted) == [("sneaky", 2)]


@pytest.mark.parametrize(("status", "exported", "expected"), [
    ("built", False, {"release", "cancel"}),
    ("released", False, {"export", "cancel"}),
    ("released", True, {"export", "cancel", "mark_sent"}),
    ("sent", True, {"export", "enter_results"}),
    ("cancelled", False, set()),
])
def test_refund_batch_table(status, exported, expected):
    assert refund_batch_actions(status, exported) == expected
    for action in {"release", "export", "mark_sent", "cancel", "enter_results"} - expected:
        with pytest.raises(MoveNotAllowed):
            check_refund_batch(status, action, exported)


def test_a_result_is_entered_once():
    check_result(None, "H-0000001-8")
    with pytest.raises(MoveNotAllowed, match="入金済"):
        check_result("done", "H-0000001-8")
