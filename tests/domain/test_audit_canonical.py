"""The audit chain's serialisation is frozen: the fast writer must equal the reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from app.domain.audit_chain import FIELDS, canonical, canonical_reference, event_hash

texts = st.one_of(st.none(), st.text(alphabet=st.characters(exclude_categories=("Cs",))))
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.sampled_from([UTC, timezone(timedelta(hours=9))]))


@given(seq=st.integers(1, 2**62), at=moments, operator=st.one_of(st.none(), st.integers(1, 10**9)),
       login=st.text(), action=texts, entity_id=st.one_of(st.none(), st.integers(-5, 10**12)),
       before=texts, after=texts, reason=texts)
def test_fast_serialisation_is_byte_for_byte_the_reference(seq, at, operator, login, action,
                                                           entity_id, before, after, reason):
    fields = {"seq": seq, "at": at, "operator_id": operator, "actor_login": login,
              "action": action, "entity": "case", "entity_id": entity_id,
              "case_id": entity_id, "before": before, "after": after, "reason": reason}
    assert canonical(fields) == canonical_reference(fields)


def test_a_known_event_keeps_its_hash():
    """Pinned: an existing database's chain must still verify after any rewrite."""
    fields = dict.fromkeys(FIELDS) | {
        "seq": 1, "at": datetime(2019, 8, 19, 9, 0, tzinfo=timezone(timedelta(hours=9))),
        "actor_login": "佐藤", "action": "case.open", "entity": "case", "entity_id": 7,
        "case_id": 7, "after": '{"note": "改行\\n\\"引用\\""}'}
    assert canonical(fields).startswith(b'[["seq",1],["at","2019-08-19T00:00:00.000000Z"]')
    assert event_hash(fields, "0" * 64) == (
        "b1ef5b57b32baa5e69f1ea06fd862302b2348678285678f5a2f8b53506860914")
