"""Signing out at a single desk (sessions.sign_out): audited, the operator's held cases
back in the queue, and the signed-out sign-in acts no more; a new sign-in acts again."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from app.domain.channels import Channel
from app.domain.roles import SYSTEM_ACTOR
from app.services import operators, queue, sessions
from app.services.context import SessionEnded
from app.storage.models import AuditEvent, CaseQueue
from tests.conftest import PASSWORD
from tests.services.test_queue import make_case


def _signed_out(ctx):
    with ctx.db.read() as session:
        return [(login, json.loads(after)) for login, after in session.execute(
            select(AuditEvent.actor_login, AuditEvent.after)
            .where(AuditEvent.action == "operator.sign_out"))]


def test_sign_out_ends_this_sign_in_and_gives_back_the_hold(ctx, staff):
    make_case(ctx, "七子 花子", Channel.NANACO_CHARGE, date(2019, 8, 5))
    held = queue.next_case(ctx, staff["op1"])
    assert held is not None
    sessions.sign_out(ctx, staff["op1"])
    assert _signed_out(ctx) == [("op1", {"desk": "local", "released_cases": 1})]
    with ctx.db.read() as session:
        assert session.get(CaseQueue, held.case_id).holder_id is None
    with pytest.raises(SessionEnded):
        queue.next_case(ctx, staff["op1"])
    # Signing out again (or after a lock) has nothing more to end.
    sessions.sign_out(ctx, staff["op1"])
    assert len(_signed_out(ctx)) == 1
    # Others are untouched; the operator's next sign-in acts again.
    assert queue.next_case(ctx, staff["op2"]) is not None
    again = operators.authenticate(ctx, "op1", PASSWORD).as_actor()
    assert again.epoch == staff["op1"].epoch + 1
    queue.release(ctx, again, held.case_id)  # confirmed: acts (nothing of its own held)
    sessions.sign_out(ctx, SYSTEM_ACTOR)  # the command line has no session
    assert len(_signed_out(ctx)) == 1
