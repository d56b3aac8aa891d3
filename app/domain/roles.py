"""Who may do what. Roles are checked in the services, never only hidden in the GUI."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label_ja(self) -> str:
        labels = {"operator": "オペレーター", "supervisor": "スーパーバイザー", "admin": "管理者"}
        return labels[self]


@dataclass(frozen=True)
class Actor:
    """The signed-in operator on whose behalf a service runs.

    Services re-read the role from the database: an Actor is only a claim.
    ``operator_id`` None means the command line run by the system's owner.
    ``epoch`` is the operator's sign-in epoch when the session signed in: a lock or
    an administrator's reset raises the stored one, and the session may no longer
    act. None for an actor that no sign-in made (the command line's ``--as``).
    """

    operator_id: int | None
    login: str
    role: Role
    epoch: int | None = None

    @property
    def is_system(self) -> bool:
        return self.operator_id is None


SYSTEM_ACTOR = Actor(operator_id=None, login="system", role=Role.ADMIN)

# Supervisors and administrators approve money and manage accounts: an authenticator
# code at every sign-in, whatever the settings say.
ALWAYS_SECOND_FACTOR = frozenset({Role.SUPERVISOR, Role.ADMIN})


def second_factor_required(role: Role, enrolled: bool, operator_rule: str) -> bool:
    """Whether a sign-in of this role asks for an authenticator code.

    Operators too, unless an administrator relaxed the rule for them (the setting
    operator_second_factor); even then an operator who set up an authenticator
    keeps being asked for its code: a second factor is never dropped silently.
    """
    if role in ALWAYS_SECOND_FACTOR:
        return True
    return operator_rule != "relaxed" or enrolled

