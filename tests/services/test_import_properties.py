"""Property, through the services on SQLite and PostgreSQL: a hostile file either is
refused whole with a message and changes nothing, or every row ends in one outcome
(read = accepted + duplicate + conflict + rejected); hostile typed input ends in a
bilingual refusal or a stored case. Never another exception (exit 70 in the command)."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.clock import JST
from app.core.errors import UserError
from app.domain.channels import Channel
from app.services import intake
from app.services.imports import import_incidents
from app.storage.models import AuditEvent, Incident
from tests.importers.hostile import file_bytes, hostile_row, non_blank, odd_cell
from tests.services.helpers import victim

FIXTURES = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def counts(ctx) -> tuple[int, int]:
    with ctx.db.read() as session:
        return tuple(session.execute(select(func.count()).select_from(model)).scalar_one()
                     for model in (Incident, AuditEvent))


@settings(max_examples=12, **FIXTURES)
@given(rows=st.lists(hostile_row(), max_size=10),
       encoding=st.sampled_from(["utf-8", "cp932"]))
def test_any_file_imports_row_by_row_or_is_refused_whole(ctx, staff, tmp_path_factory, rows,
                                                         encoding):
    path = tmp_path_factory.mktemp("hostile") / "hostile.csv"
    path.write_bytes(file_bytes(rows, encoding))
    before = counts(ctx)
    try:
        summary = import_incidents(ctx, staff["op1"], path)
    except UserError as refused:
        assert refused.ja and refused.en
        assert counts(ctx) == before
        return
    assert summary.read == non_blank(rows)
    assert summary.read == (summary.accepted + summary.duplicate + summary.conflict
                            + summary.rejected)
    assert counts(ctx)[0] == before[0] + summary.accepted


TYPED = st.one_of(st.none(), odd_cell(), st.text(max_size=20))


@settings(max_examples=25, **FIXTURES)
@given(form=st.fixed_dictionaries({name: TYPED for name in (
    "name", "name_kana", "member_id", "phone", "email", "postal_code", "address",
    "occurred_at", "amount", "card_issuer", "card_last4", "merchant")}),
    raw_name=TYPED, raw_phone=st.one_of(st.none(), odd_cell()),
    surrogate=st.sampled_from(["", "\ud800", "\udfff\x00"]))
def test_hostile_phone_intake_is_refused_or_stored(ctx, staff, form, raw_name, raw_phone,
                                                   surrogate):
    now = ctx.clock.now()
    try:
        parsed_victim, parsed_incident = intake.parse_intake_form(
            form, Channel.NANACO_CHARGE, now)
    except intake.FormProblems as problems:
        assert problems.problems and problems.ja and problems.en
    else:
        intake.take_phone_intake(ctx, staff["op1"], parsed_victim, parsed_incident)
    # Typed straight into the service's inputs, surrogates and all.
    typed = victim(name=(raw_name or "") + surrogate, phone=raw_phone)
    incident = intake.IncidentInput(Channel.DEBIT_CHARGE, datetime(2019, 7, 2, tzinfo=JST),
                                    1000, merchant=surrogate or None)
    try:
        intake.take_phone_intake(ctx, staff["op1"], typed, incident)
    except UserError as refused:
        assert refused.ja and refused.en
