"""When Apple publishes each report period (FACTS §5.7), in Apple's Pacific-time days.

Daily: the next day, generally by 08:00 Pacific. Weekly (keyed by the week-ending Sunday): the
Monday after. Monthly: 5 days after month end. Yearly: 6 days after year end. Daily, weekly and
monthly files are kept for a year, yearly ones for ten.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")
PUBLISH_HOUR = 8
DAILY_RETENTION = dt.timedelta(days=365)
#: How long after a period's availability time a "There were no sales…" answer stays
#: provisional: what Apple answers before a file is generated is undocumented, and that text
#: may come back for a day that later gets a file (FACTS §8) — so until D+3 08:00 PT for a day.
PROVISIONAL = dt.timedelta(days=2)
YEARLY_RETENTION = dt.timedelta(days=3650)


def pacific_today(now: dt.datetime) -> dt.date:
    return now.astimezone(PACIFIC).date()


def _at_publish_hour(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(PUBLISH_HOUR), tzinfo=PACIFIC)


def latest_batch(now: dt.datetime) -> dt.datetime:
    """The most recent 08:00 Pacific at or before ``now``: when Apple's last batch landed."""
    today = _at_publish_hour(pacific_today(now))
    return today if now >= today else _at_publish_hour(pacific_today(now) - dt.timedelta(days=1))


def daily_available_at(day: dt.date) -> dt.datetime:
    return _at_publish_hour(day + dt.timedelta(days=1))


def week_ending(day: dt.date) -> dt.date:
    """The Sunday that ends ``day``'s week (Apple's weekly reports run Monday–Sunday)."""
    return day + dt.timedelta(days=6 - day.weekday())


def weekly_available_at(sunday: dt.date) -> dt.datetime:
    return _at_publish_hour(sunday + dt.timedelta(days=1))


def month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def monthly_available_at(first: dt.date) -> dt.datetime:
    return _at_publish_hour(month_end(first) + dt.timedelta(days=5))


def yearly_available_at(first: dt.date) -> dt.datetime:
    return _at_publish_hour(dt.date(first.year, 12, 31) + dt.timedelta(days=6))


def latest_daily(now: dt.datetime) -> dt.date:
    """The newest day Apple should have published by ``now``."""
    today = pacific_today(now)
    yesterday = today - dt.timedelta(days=1)
    return yesterday if now >= daily_available_at(yesterday) else yesterday - dt.timedelta(days=1)


def latest_weekly(now: dt.datetime) -> dt.date:
    sunday = week_ending(pacific_today(now)) - dt.timedelta(days=7)
    return sunday if now >= weekly_available_at(sunday) else sunday - dt.timedelta(days=7)


def latest_monthly(now: dt.datetime) -> dt.date:
    first = pacific_today(now).replace(day=1)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    if now >= monthly_available_at(previous):
        return previous
    return (previous - dt.timedelta(days=1)).replace(day=1)


def latest_yearly(now: dt.datetime) -> dt.date:
    year = pacific_today(now).year - 1
    return (
        dt.date(year, 1, 1)
        if now >= yearly_available_at(dt.date(year, 1, 1))
        else dt.date(year - 1, 1, 1)
    )


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
