"""Errors that say whose fault a failure is.

Every message is bilingual (Japanese first, then English) because the same
text reaches operators on screen and administrators on the command line.
"""

from __future__ import annotations


class HoshoError(Exception):
    """Base class. ``ja`` and ``en`` hold the two wordings of one message."""

    def __init__(self, ja: str, en: str | None = None) -> None:
        self.ja = ja
        self.en = en or ja
        super().__init__(f"{ja} / {self.en}" if en else ja)

    @property
    def message(self) -> str:
        return str(self)


class UserError(HoshoError):
    """The operator asked for something the rules do not allow, or typed bad input."""


class ValidationError(UserError):
    """A value was malformed. ``field`` names where."""

    def __init__(self, field: str, ja: str, en: str | None = None) -> None:
        self.field = field
        super().__init__(ja, en)


class PermissionDenied(UserError):
    """The acting operator's role or history forbids the action."""


class MoveNotAllowed(UserError):
    """A case move that the workflow table or a rule forbids."""


class NotFound(UserError):
    """A case, victim or operator that does not exist."""


class ConflictError(UserError):
    """Someone else changed the record since it was read (optimistic locking)."""


class ChangedMeanwhile(ConflictError):
    """The database refused a change because of what another desk wrote (a constraint,
    or a transaction that lost a race): show the fresh data, let the operator retry."""


class EnvironmentProblem(HoshoError):
    """Not the user's fault and not a bug: disk, database server, file permissions."""
