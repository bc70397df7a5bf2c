"""Calendar days and instants the API accepts: years 2000 to 2999.

Nothing Orchard serves predates the App Store, and the bounds keep every date computation
(the day before, the end of a week or a year, a time zone away) far from the calendar's edges:
without them ``0001-01-01`` overflowed Python's date arithmetic (500), an instant at year 1 with
a positive offset could not be converted to UTC (500), and ``0001-01-01`` / ``9999-12-31``
reached PostgreSQL as ``-infinity`` / ``infinity`` (asyncpg's mapping of ``date.min`` and
``date.max``), turning a one-day ``generate_series`` into an endless query.

Use ``Day`` / ``Instant`` instead of ``datetime.date`` / ``datetime.datetime`` for input, as
``x: Annotated[Day, Query(...)]`` or ``x: Day | None = Query(...)``: FastAPI drops the check of
a bare ``x: Day = Query(...)``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2999, 12, 31)
_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _within(day: dt.date) -> None:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"must be between {EARLIEST_DAY} and {LATEST_DAY}")


def _iso(value: Any) -> Any:
    # pydantic would also read `since=1099511627776` (or a JSON number) as a Unix time; the
    # API says ISO 8601.
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and not _ISO_START.match(value)
    ):
        raise ValueError("must be an ISO 8601 date (YYYY-MM-DD…)")
    return value


def _day(value: dt.date) -> dt.date:
    _within(value)
    return value


def _instant(value: dt.datetime) -> dt.datetime:
    _within(value.date())
    return value


Day = Annotated[dt.date, BeforeValidator(_iso), AfterValidator(_day)]
Instant = Annotated[dt.datetime, BeforeValidator(_iso), AfterValidator(_instant)]
