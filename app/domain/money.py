"""Money is whole yen in integers. Nothing here ever sees a float."""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_INCIDENT_CEILING = 1_000_000


def check_yen(amount: object, *, what: str = "amount") -> int:
    """Accept a positive whole-yen int and nothing else (bool and float included)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"{what} must be an int of yen, got {type(amount).__name__}")
    if amount <= 0:
        raise ValueError(f"{what} must be greater than zero, got {amount}")
    return amount


def total(amounts: Iterable[int]) -> int:
    return sum(amounts, 0)


def format_yen(amount: int) -> str:
    """38615473 -> 38,615,473円 (the form letters and screens use)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("yen amounts are ints")
    return f"{amount:,}円"
