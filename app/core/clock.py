"""An injectable clock: business rules never call ``datetime.now()`` directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

JST = timezone(timedelta(hours=9), "JST")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class DemoClock:
    """The demo's clock: it starts on the demo's day (26 August 2019, 17:00 in Japan)
    when the program starts and moves with real time, so that deadlines, holds and
    charts read as on that day and the time still passes.

    It starts where the demo's history ends (app.services.demo.AS_OF is this moment,
    and the history's last event falls before 16:00): nothing the window shows
    happened after "now". The history is generated from a seed, so moving it before
    a 09:00 start would change every demo figure; starting the clock at the end of
    the recorded day changes nothing but the clock."""

    START = datetime(2019, 8, 26, 17, 0, tzinfo=JST)

    def __init__(self, start: datetime | None = None, real: Clock | None = None) -> None:
        self.start = start or self.START
        self.real = real or SystemClock()
        self.began = self.real.now()

    def now(self) -> datetime:
        return (self.start + (self.real.now() - self.began)).astimezone(UTC)


@dataclass
class FixedClock:
    """A clock for tests and for the demo: time moves only when told."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current = self.current + timedelta(**kwargs)


def to_jst(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must carry a timezone")
    return moment.astimezone(JST)


def today_jst(clock: Clock) -> date:
    return to_jst(clock.now()).date()


def jst_datetime(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JST)
