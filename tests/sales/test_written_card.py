"""PostgreSQL writes an app's card (``/v1/apps/{id}/sales/summary`` without a reporting
currency) as JSON (``card.written_summary``, ``repository.app_days_written``): byte for byte
the document the API built from the aggregate's rows (``service._built_summary`` serialised
by ``report_json.encode``), property-based.

Over the random world of ``test_rollup_planner`` (refunds, partial refunds, rows without
currency or storefront, two currency pairs in one storefront, amounts with more decimals than
their currency, days without rows): each app (and one without rows), random ranges (inside,
across and outside the world's days), any availability state per day and any app name.
"""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import given
from hypothesis import strategies as st

from app.reports import calendar, query
from app.reports.query import DateRange
from app.sales import card, report_json, service
from app.sync.schemas import AvailabilityState
from tests.sales.test_rollup_planner import (  # noqa: F401  (rollup_world: the fixture)
    DAYS,
    FIRST,
    FIXTURE_OK,
    RollupWorld,
    rollup_world,
)


@FIXTURE_OK
@given(data=st.data())
async def test_the_written_card_is_the_bytes_the_api_built(
    rollup_world: RollupWorld,  # noqa: F811  (the fixture)
    data: st.DataObject,
) -> None:
    world = rollup_world
    app_id = data.draw(st.sampled_from([*world.apps, uuid.uuid4()]))
    first = FIRST + dt.timedelta(days=data.draw(st.integers(-5, DAYS)))
    span = DateRange(first, first + dt.timedelta(days=data.draw(st.integers(0, DAYS + 5))))
    states = {
        day: data.draw(st.sampled_from(AvailabilityState))
        for day in calendar.days(span.start, span.end)
    }
    name = data.draw(st.text(max_size=12))
    app = query.AppDays(app_id, name, world.accounts[0], states)
    async with world.sessions() as session:
        built = await service._built_summary(session, world.workspace_id, app, span, None, None)
        written = await card.written_summary(session, world.workspace_id, app, span)
    assert report_json.encode(written) == report_json.encode(built)
