"""Asking for a fresh authenticator code before a sensitive move or an export of
personal data or payment files (step-up).

The service refuses such an action without a valid code; asking here first only
spares the operator a refusal.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QWidget

from app.core.i18n import _
from app.domain.workflow import Move
from app.services.cases import MoveRequest, needs_step_up
from app.services.operators import SECOND_FACTOR_ROLES


def ask_step_up(parent: QWidget, desk, move: Move, case, request: MoveRequest
                ) -> MoveRequest | None:
    """The request with the code added, unchanged when none is needed, or None
    when the operator cancelled."""
    if not needs_step_up(move, case, request):
        return request
    code = ask_fresh_code(parent, desk)
    if code is None:
        return None
    return replace(request, second_factor=code) if code else request


def ask_fresh_code(parent: QWidget, desk) -> str | None:
    """Before an export of personal data or payment files (or a sensitive move):
    the code typed, "" when the operator's role gives none, None when cancelled."""
    if desk.actor.is_system or desk.actor.role not in SECOND_FACTOR_ROLES:
        return ""
    code = desk.prompter.ask_code(
        parent, _("Confirm with your authenticator"),
        _("Enter the 6-digit code from your authenticator app (or a recovery code)."))
    return code or None
