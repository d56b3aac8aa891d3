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
    """

    operator_id: int | None
    login: str
    role: Role

    @property
    def is_system(self) -> bool:
        return self.operator_id is None


SYSTEM_ACTOR = Actor(operator_id=None, login="system", role=Role.ADMIN)
