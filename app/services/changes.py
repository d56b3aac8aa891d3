"""What a use case changed: a small plain value the window refreshes from.

Every write already leaves its trace in the audit trail, in its own transaction
(app.services.audit). While a gateway records (``recording``), each audit event
the use case writes also names what it touched here, so that no service can
forget to say what it changed and a new one says it without a line of its own:

    with changes.recording() as changed:
        value = cases.move_case(ctx, actor, case_id, request)
    changed.value  # Changed(cases=frozenset({case_id}))

Outside a recording (the command line, tests of a service) nothing is kept. The
value is plain (sets of ids and flags) so that a centre server sends it to a remote
desk as it is (``as_dict``/``from_dict``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from typing import Any

# Events that record a look, not a change: a reveal of payout details, an export
# or a copy of a file, a step-up code checked. Nothing to refresh after them.
LOOKS = frozenset({"payout.reveal", "audit.export", "import.refused_rows_saved",
                   "second_factor.step_up"})
_PAYOUT_ENTITIES = frozenset({"refund_batch", "refund_item", "payout_list", "payout_request",
                              "payout_detail"})


@dataclass(frozen=True)
class Changed:
    """Cases by id; refund batches (``batches``) and letter batches (``letters``) by
    id; victims and operators by id; the settings; ``payouts``: anything of the
    payout family (batches, their items, card and nanaco lists, requests);
    ``refunds``: anything of the balance-refund programme (its imports, applications,
    decisions and rails: the actions named refund.*)."""

    cases: frozenset[int] = frozenset()
    victims: frozenset[int] = frozenset()
    batches: frozenset[int] = frozenset()
    letters: frozenset[int] = frozenset()
    operators: frozenset[int] = frozenset()
    settings: bool = False
    payouts: bool = False
    refunds: bool = False

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def __or__(self, other: Changed) -> Changed:
        return Changed(**{f.name: getattr(self, f.name) | getattr(other, f.name)
                          for f in fields(self)})

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: sorted lists of ids and booleans."""
        return {f.name: (sorted(v) if isinstance(v := getattr(self, f.name), frozenset) else v)
                for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Changed:
        known = {f.name: f for f in fields(cls)}
        return cls(**{name: (bool(value) if known[name].type == "bool"
                             else frozenset(int(v) for v in value))
                      for name, value in data.items() if name in known})


NOTHING = Changed()


@dataclass
class Recorder:
    """Collects the ids while a use case runs; ``value`` is what it changed."""

    cases: set[int] = field(default_factory=set)
    victims: set[int] = field(default_factory=set)
    batches: set[int] = field(default_factory=set)
    letters: set[int] = field(default_factory=set)
    operators: set[int] = field(default_factory=set)
    settings: bool = False
    payouts: bool = False
    refunds: bool = False

    @property
    def value(self) -> Changed:
        return Changed(frozenset(self.cases), frozenset(self.victims),
                       frozenset(self.batches), frozenset(self.letters),
                       frozenset(self.operators), self.settings, self.payouts, self.refunds)

    def event(self, action: str, entity: str, entity_id: int | None,
              case_id: int | None) -> None:
        if action in LOOKS:
            return
        self.refunds |= action.startswith("refund.")
        if case_id is not None:
            self.cases.add(case_id)
        if entity_id is None:
            self.settings |= entity == "setting"
            self.payouts |= entity in _PAYOUT_ENTITIES
            return
        if entity == "case":
            self.cases.add(entity_id)
        elif entity == "victim":
            self.victims.add(entity_id)
        elif entity == "letter_batch":
            self.letters.add(entity_id)
        elif entity == "operator":
            self.operators.add(entity_id)
        elif entity == "setting":
            self.settings = True
        if entity == "refund_batch":
            self.batches.add(entity_id)
        self.payouts |= entity in _PAYOUT_ENTITIES

    def events(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.event(row["action"], row["entity"], row["entity_id"], row["case_id"])


_current: ContextVar[Recorder | None] = ContextVar("hosho_changes", default=None)


@contextmanager
def recording() -> Iterator[Recorder]:
    """Collect what the code inside changes (on this thread: the use case runs here)."""
    recorder = Recorder()
    token = _current.set(recorder)
    try:
        yield recorder
    finally:
        _current.reset(token)


def noted(action: str, entity: str, entity_id: int | None, case_id: int | None) -> None:
    """Called by app.services.audit for each event it writes."""
    recorder = _current.get()
    if recorder is not None:
        recorder.event(action, entity, entity_id, case_id)


def noted_many(rows: list[dict[str, Any]]) -> None:
    recorder = _current.get()
    if recorder is not None:
        recorder.events(rows)
