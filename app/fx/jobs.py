"""The currency datasets: public units, fetched once for every workspace.

* ``fx_ecb`` (hourly): the ECB's euro reference rates. The first run backfills the full
  history (``eurofxref-hist.xml``, unit ``history``); afterwards unit ``recent`` reads the
  last 90 days (``eurofxref-hist-90d.xml``) every cadence, so a day the ECB published after
  16:00 CET, late, or revised is picked up at the next run. Re-running either unit is
  idempotent: equal rates are left alone, a changed one is kept as a revision (logged).
* ``fx_frankfurter`` (daily, off unless ``ORCHARD_FX_FRANKFURTER_URL`` is set): see
  :mod:`app.fx.frankfurter`.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from app.config import Settings
from app.fx import ecb, frankfurter, repository
from app.sync.contract import (
    PermanentUnitError,
    PlannedUnit,
    Priority,
    PublicDataset,
    PublicPlanContext,
    PublicUnitContext,
    UnitResult,
)

ECB = "fx_ecb"
FRANKFURTER = "fx_frankfurter"
LANE = "fx"
HISTORY_UNIT = "history"
RECENT_UNIT = "recent"


async def plan_ecb(ctx: PublicPlanContext) -> list[PlannedUnit]:
    if not await repository.has_rates(ctx.session, "ecb"):
        return [PlannedUnit(HISTORY_UNIT, priority=Priority.BACKFILL)]
    return [PlannedUnit(RECENT_UNIT, refresh_after=ctx.cadence)]


async def run_ecb(settings: Settings, ctx: PublicUnitContext) -> UnitResult:
    if ctx.unit_key not in (HISTORY_UNIT, RECENT_UNIT):
        raise PermanentUnitError(f"not an fx_ecb unit key: {ctx.unit_key}")
    name = ecb.HISTORY_FILE if ctx.unit_key == HISTORY_UNIT else ecb.RECENT_FILE
    url = ecb.file_url(settings.fx_ecb_url, name)
    content = await ecb.fetch(ctx.http, url, settings.fx_http_timeout_seconds)
    try:
        rates = ecb.parse(content)
    except ecb.EcbFileError as error:
        # A broken download may be fixed by fetching again: the runner retries with backoff.
        raise ValueError(f"{url}: {error}") from None
    rows = [
        {"day": r.day, "base": "EUR", "quote": r.currency, "rate": r.rate, "provider": ""}
        for r in rates
    ]
    inserted, revisions = await repository.upsert_public(
        ctx.session, source="ecb", rows=rows, source_url=url, now=ctx.now
    )
    for revision in revisions:
        ctx.log.warning(
            "ECB rate revised",
            extra={
                "day": revision.day.isoformat(),
                "currency": revision.quote,
                "previous_rate": str(revision.previous),
                "rate": str(revision.rate),
            },
        )
    days = sorted({r.day for r in rates})
    return UnitResult(
        rows=inserted + len(revisions),
        notes={
            "file": name,
            "days": len(days),
            "newest_day": days[-1].isoformat() if days else None,
            "inserted": inserted,
            "revised": len(revisions),
        },
    )


def datasets(settings: Settings) -> list[PublicDataset]:
    ecb_off = None if settings.fx_ecb_enabled else "switched off (ORCHARD_FX_ECB_ENABLED=false)"
    frank_off = (
        None
        if settings.fx_frankfurter_url
        else "off by default (set ORCHARD_FX_FRANKFURTER_URL to a Frankfurter server)"
    )
    return [
        PublicDataset(
            name=ECB,
            cadence=dt.timedelta(hours=1),
            plan=plan_ecb,
            run=partial(run_ecb, settings),
            lane=LANE,
            enabled=settings.fx_ecb_enabled,
            disabled_reason=ecb_off,
        ),
        PublicDataset(
            name=FRANKFURTER,
            cadence=dt.timedelta(hours=6),
            plan=partial(frankfurter.plan, settings),
            run=partial(frankfurter.run, settings),
            lane=LANE,
            enabled=bool(settings.fx_frankfurter_url),
            disabled_reason=frank_off,
        ),
    ]
