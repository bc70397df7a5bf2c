"""The ``store_ratings`` unit: one storefront's star ratings for one (UTC) day.

Unit key ``{country}:{YYYY-MM-DD}``. The unit looks up every tracked app of the storefront
that has no snapshot of that day fetched within the cadence, in batches within Lookup's id
ceiling, and stores one snapshot per app: Apple's count and average, the current version's
pair when given, and the version seen. An app Lookup does not list there is
``not_in_storefront`` (no figures, never zeros). A throttled call defers the whole unit, which
keeps its day: it runs again later for the same date (a day more than one day late is given up:
Lookup only knows the present). An empty answer for two or more apps Lookup listed there in
the last three days is taken for throttling too (a reported shape of Apple's refusal).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.resources import changes
from app.resources.units import AppRef
from app.store import runtime, snapshots
from app.store.apple import LookupRecord
from app.sync.contract import DeferUnit, PermanentUnitError, PublicUnitContext, UnitResult

#: How long a day's unit may run late (Lookup answers the present, not the past).
LATE_LIMIT = dt.timedelta(days=1)
#: A wholly empty answer for apps Lookup listed this recently is taken for throttling.
RECENTLY = dt.timedelta(days=3)
_EVENT_NAMESPACE = uuid.UUID("6f1c2a52-6a43-4d8e-9a55-0f3c7b5e2d22")


def unit_key(country: str, day: dt.date) -> str:
    return f"{country}:{day.isoformat()}"


def parse_key(key: str) -> tuple[str, dt.date]:
    country, _, raw = key.partition(":")
    try:
        return country, dt.date.fromisoformat(raw)
    except ValueError:
        raise PermanentUnitError(f"not a ratings unit key: {key}") from None


def is_reset(previous: Any, record: LookupRecord) -> bool:
    """A sharp drop of the count (half or more, or any drop with a new version): Apple's
    summary rating started over. Counts otherwise never fall."""
    before = previous.rating_count or 0
    if record.rating_count >= before:
        return False
    return record.rating_count <= before // 2 or record.version != previous.version


async def run(settings: Settings, ctx: PublicUnitContext) -> UnitResult:
    country, day = parse_key(ctx.unit_key)
    if day < ctx.now.date() - LATE_LIMIT:
        return UnitResult(detail="given up: more than a day late", notes={"skipped_day": str(day)})
    ids = await snapshots.due_rating_ids(ctx.session, country, day, ctx.now - ctx.cadence)
    client = runtime.client(settings, ctx)
    stored = 0
    for start in range(0, len(ids), settings.store_lookup_batch):
        batch = ids[start : start + settings.store_lookup_batch]
        found = await client.lookup(batch, country)
        if not found and await _looks_throttled(ctx, country, day, batch):
            until = await client.politeness.throttled()
            raise DeferUnit(until, "Lookup listed none of the apps it listed lately: throttled")
        stored += await _store(ctx, country, day, batch, found)
    return UnitResult(rows=stored, notes={"requests": client.requests, "apps": len(ids)})


async def _looks_throttled(
    ctx: PublicUnitContext, country: str, day: dt.date, batch: list[int]
) -> bool:
    """An empty answer for several apps Lookup listed here lately: one report says a
    throttled Lookup answers an empty list (with 403, or by another reading 200), which must
    not read as "not in storefront". One app that left a storefront is just absent."""
    seen = await snapshots.seen_recently(ctx.session, country, batch, day - RECENTLY)
    return seen >= 2


async def _store(
    ctx: PublicUnitContext,
    country: str,
    day: dt.date,
    batch: list[int],
    found: dict[int, LookupRecord],
) -> int:
    previous = await snapshots.previous_ratings(ctx.session, country, batch, day)
    rows = []
    for apple_id in batch:
        record = found.get(apple_id)
        if record is None:
            rows.append(_absent(apple_id, country, day, ctx.now))
            continue
        before = previous.get(apple_id)
        reset = before is not None and is_reset(before, record)
        rows.append(_snapshot(record, country, day, ctx.now, reset))
        if reset:
            await _reset_event(ctx.session, record, before, country, day, ctx.now)
    await snapshots.save_store_apps(ctx.session, list(found.values()))
    await snapshots.save_ratings(ctx.session, rows)
    return len(rows)


def _snapshot(
    record: LookupRecord, country: str, day: dt.date, now: dt.datetime, reset: bool
) -> dict[str, Any]:
    return {
        "apple_id": record.apple_id,
        "country": country,
        "snapshot_date": day,
        "status": "ok",
        "rating_count": record.rating_count,
        "average": record.average,
        "current_version_rating_count": record.current_version_rating_count,
        "current_version_average": record.current_version_average,
        "version": record.version,
        "version_released_at": record.version_released_at,
        "reset_detected": reset,
        "fetched_at": now,
    }


def _absent(apple_id: int, country: str, day: dt.date, now: dt.datetime) -> dict[str, Any]:
    """Lookup does not list the app here: no figures (never zeros)."""
    return {
        "apple_id": apple_id,
        "country": country,
        "snapshot_date": day,
        "status": "not_in_storefront",
        "rating_count": None,
        "average": None,
        "current_version_rating_count": None,
        "current_version_average": None,
        "version": None,
        "version_released_at": None,
        "reset_detected": False,
        "fetched_at": now,
    }


async def _reset_event(
    session: AsyncSession,
    record: LookupRecord,
    before: Any,
    country: str,
    day: dt.date,
    now: dt.datetime,
) -> None:
    """One ``store_rating_reset`` event per linked app and version (a reset is global: the
    first storefront that shows it raises the event, the others do not repeat it)."""
    subject = uuid.uuid5(_EVENT_NAMESPACE, f"{record.apple_id}:{record.version or day}")
    change = changes.Change(
        type=changes.EventType.STORE_RATING_RESET,
        subject_type=changes.SubjectType.STORE_RATING,
        subject_apple_id=str(record.apple_id),
        from_state=str(before.rating_count),
        to_state=str(record.rating_count),
        details={
            "country": country,
            "snapshot_date": day.isoformat(),
            "previous_count": before.rating_count,
            "previous_snapshot_date": before.snapshot_date.isoformat(),
            "count": record.rating_count,
            "previous_version": before.version,
            "version": record.version,
        },
    )
    for app in await snapshots.linked_catalog_apps(session, record.apple_id):
        if await snapshots.event_exists(session, app.id, subject):
            continue
        ref = AppRef(app.id, app.apple_id, app.workspace_id, app.account_id, synced_at=now)
        await changes.record(session, ref, [change], {str(record.apple_id): subject}, now)
