"""The Japanese era calendar (和暦), which neither Babel nor Qt provides.

Eras change on a given day, not on 1 January: 平成31年4月30日 is followed by
令和元年5月1日. The first year of an era is written 元年.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: date


ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1868, 10, 23)),
    Era("大正", "T", date(1912, 7, 30)),
    Era("昭和", "S", date(1926, 12, 25)),
    Era("平成", "H", date(1989, 1, 8)),
    Era("令和", "R", date(2019, 5, 1)),
)
_BY_NAME = {era.name: era for era in ERAS} | {era.letter: era for era in ERAS}


def era_of(day: date) -> Era:
    for era in reversed(ERAS):
        if day >= era.start:
            return era
    raise ValueError(f"{day.isoformat()} is before the Meiji era")


def _era_end(era: Era) -> date | None:
    index = ERAS.index(era)
    return ERAS[index + 1].start if index + 1 < len(ERAS) else None


def format_era_date(day: date) -> str:
    """2019-08-19 -> 令和元年8月19日."""
    era = era_of(day)
    year = day.year - era.start.year + 1
    year_text = "元" if year == 1 else str(year)
    return f"{era.name}{year_text}年{day.month}月{day.day}日"


def format_western_date(day: date) -> str:
    """2019-08-19 -> 2019年8月19日."""
    return f"{day.year}年{day.month}月{day.day}日"


def from_era(era_name: str, era_year: int, month: int, day: int) -> date:
    """Turn an era date into a western one, refusing dates outside the era.

    Raises ValueError for an unknown era, a date that does not exist, or a
    date outside the era (令和元年4月30日 is before Reiwa began).
    """
    era = _BY_NAME.get(era_name.upper() if len(era_name) == 1 else era_name)
    if era is None:
        raise ValueError(f"unknown era {era_name!r}")
    if era_year < 1:
        raise ValueError("era year must be 1 or more")
    result = date(era.start.year + era_year - 1, month, day)
    end = _era_end(era)
    if result < era.start or (end is not None and result >= end):
        raise ValueError(f"{era.name}{era_year}年{month}月{day}日 is outside the {era.name} era")
    return result
