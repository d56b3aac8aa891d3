"""Who a reported incident belongs to and which case takes it: the rules the phone
intake and the import share.

Pure: no database. A writer (the ORM intake for a call, the bulk writer for a
file) asks these rules what to create and writes exactly that. The rules:

- a victim is stored with the search keys of their name and kana, phone digits
  and e-mail key (``victim_fields``);
- an incident goes to the victim's case on its channel; a case merged into
  another is followed to where it went; none yet: a case opens as received;
- a case verified or later takes no more incidents (``refusal``);
- in a file, an incident's victim is the one with the same member ID, else the
  same name or kana with the same phone or e-mail (``VictimMatcher``); a name
  alone is never enough.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from app.domain.channels import Channel
from app.domain.states import VERIFIED_OR_LATER, Status
from app.domain.text import email_key, phone_digits, search_key

OPENING_STATUS = Status.RECEIVED

_CLOSED_TO_INCIDENTS = frozenset(status.value for status in VERIFIED_OR_LATER)
# Names repeat across a file (and NFKC is costly): their keys are remembered.
_key = lru_cache(maxsize=16_384)(search_key)

# The victim's stored columns, in the order the bulk writer inserts them (id first).
VICTIM_COLUMNS = ("id", "member_id", "name", "name_kana", "name_key", "kana_key", "phone",
                  "phone_digits", "email", "email_key", "postal_code", "address",
                  "contact_received_at", "contact_changed_at", "created_at", "updated_at",
                  "version")


@dataclass(frozen=True)
class Person:
    """A victim as reported: by a caller or by a row of a file."""

    name: str
    name_kana: str | None = None
    member_id: str | None = None
    phone: str | None = None
    email: str | None = None
    postal_code: str | None = None
    address: str | None = None
    contact_received_at: date | None = None
    digits: str | None = None  # the phone's digits when already read (the import has them)

    @property
    def phone_digits(self) -> str:
        return self.digits if self.digits is not None else phone_digits(self.phone)


def victim_fields(person: Person, now: datetime) -> dict[str, Any]:
    """The columns of a new victim, without its id."""
    return {
        "member_id": person.member_id or None, "name": person.name,
        "name_kana": person.name_kana or None, "name_key": _key(person.name or ""),
        "kana_key": _key(person.name_kana or ""), "phone": person.phone or None,
        "phone_digits": person.phone_digits or "", "email": person.email or None,
        "email_key": email_key(person.email), "postal_code": person.postal_code or None,
        "address": person.address or None, "contact_received_at": person.contact_received_at,
        "contact_changed_at": None, "created_at": now, "updated_at": now, "version": 1,
    }


def victim_row(person: Person, now: datetime) -> tuple:
    """``victim_fields`` in VICTIM_COLUMNS order, the id left as None."""
    values = victim_fields(person, now)
    return (None, *(values[name] for name in VICTIM_COLUMNS[1:]))


@dataclass(eq=False)
class NewVictim:
    """A victim the plan registers; known by identity until a writer gives it an id."""

    person: Person
    row: tuple  # VICTIM_COLUMNS order
    id: int | None = None


VictimRef = int | NewVictim  # a stored victim's id, or one to register


@dataclass(eq=False)
class CaseSlot:
    """The case an incident goes to: stored (``id``) or to open (``id`` None)."""

    victim: VictimRef
    channel: str
    id: int | None = None
    status: str = OPENING_STATUS.value
    case_number: str | None = None
    added: int = 0  # yen of the incidents this plan adds
    count: int = 0

    @property
    def opens(self) -> bool:
        return self.id is None


def refusal(slot: CaseSlot) -> tuple[str, str] | None:
    """(ja, en) when the case may not take another incident, else None."""
    if slot.status not in _CLOSED_TO_INCIDENTS:
        return None
    named = f"案件 {slot.case_number} " if slot.case_number else "この被害者の案件"
    named_en = f"Case {slot.case_number}" if slot.case_number else "The victim's case"
    return (f"{named}は確認済以降のため、被害を追加できません。"
            "スーパーバイザーに相談してください。",
            f"{named_en} is verified or later: incidents can no longer be added.")


@dataclass
class CaseBook:
    """The cases of the victims a plan touches, by (victim, channel)."""

    slots: dict[tuple[VictimRef, str], CaseSlot] = field(default_factory=dict)

    def know(self, victim_id: int, channel: str, case_id: int, status: str,
             case_number: str | None = None) -> None:
        """A stored case (the one its merges lead to)."""
        self.slots[(victim_id, channel)] = CaseSlot(victim_id, channel, case_id, status,
                                                    case_number)

    def take(self, victim: VictimRef, channel: Channel, amount: int
             ) -> tuple[CaseSlot, tuple[str, str] | None]:
        """The case this incident goes to (opened if none), or why it may not; a slot
        that takes it counts the incident towards its claim."""
        key = (victim, channel.value)
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = CaseSlot(victim, channel.value)
        refused = refusal(slot)
        if refused is None:
            slot.added += amount
            slot.count += 1
        return slot, refused

    def opened(self) -> list[CaseSlot]:
        return [slot for slot in self.slots.values() if slot.opens and slot.count]

    def grown(self) -> list[CaseSlot]:
        return [slot for slot in self.slots.values() if not slot.opens and slot.count]


class VictimMatcher:
    """Finds the victim a row of a file belongs to among those it was told of."""

    def __init__(self) -> None:
        self.by_member: dict[str, VictimRef] = {}
        self.by_name: dict[tuple[str, str], list[tuple[VictimRef, str | None]]] = {}

    def know(self, victim: VictimRef, member: str | None, name_key: str, kana_key: str,
             phone: str, email: str) -> None:
        if member and member not in self.by_member:
            self.by_member[member] = victim
        for key in {name_key, kana_key} - {""}:
            for contact in (f"p:{phone}" if phone else None, f"e:{email}" if email else None):
                if contact:
                    entries = self.by_name.setdefault((key, contact), [])
                    if all(existing != victim for existing, _m in entries):
                        entries.append((victim, member))

    def match(self, person: Person, row: tuple | None = None) -> VictimRef | None:
        """By member ID; else by name or kana with the same phone or e-mail (and no
        other member ID). ``row``: the person's ``victim_row``, when made already."""
        if person.member_id and person.member_id in self.by_member:
            return self.by_member[person.member_id]
        row = row or victim_row(person, datetime.min)
        name_key, kana_key, digits, email = row[4], row[5], row[7], row[9]
        contacts = [f"p:{digits}" if digits else None, f"e:{email}" if email else None]
        for key in filter(None, (name_key, kana_key)):
            for contact in filter(None, contacts):
                for victim, member in self.by_name.get((key, contact), []):
                    if not member or not person.member_id or member == person.member_id:
                        return victim
        return None

    def victim_for(self, person: Person, now: datetime) -> VictimRef:
        """The matching victim, or a new one (remembered, so later rows find it)."""
        if person.member_id and person.member_id in self.by_member:
            return self.by_member[person.member_id]
        row = victim_row(person, now)
        found = self.match(person, row)
        if found is not None:
            return found
        new = NewVictim(person, row)
        self.know(new, person.member_id, row[4], row[5], row[7], row[9])
        return new
