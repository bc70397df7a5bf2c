"""The optional ``fx_frankfurter`` source (FACTS fx §3): a Frankfurter v2 server
(``ORCHARD_FX_FRANKFURTER_URL``, self-hosted or public) for the 14 Apple currencies the ECB
does not publish.

One request per unit: ``GET /v2/rates?base=EUR&quotes=…&from=…&to=…&expand=providers``.
Each answer row is stored as it is dated (Frankfurter carries a provider's newest earlier
observation forward and dates the row by it), with ``provider`` saying which provider(s)
Frankfurter used — which one it uses for a gap currency on a given day is unconfirmed in the
facts, so Orchard stores what the answer says: the provider keys joined by ``+``, or ``peg``
for a row without providers (a currency peg). Numbers are read as decimals, never floats.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from app.config import Settings
from app.fx import repository
from app.fx.currencies import ECB_GAPS, EUR
from app.sync.contract import (
    PermanentUnitError,
    PlannedUnit,
    Priority,
    PublicPlanContext,
    PublicUnitContext,
    UnitResult,
)

HISTORY_UNIT = "history"
RECENT_UNIT = "recent"
RECENT_DAYS = 14


class FrankfurterAnswerError(ValueError):
    """The answer is not Frankfurter's v2 rate list."""


async def plan(settings: Settings, ctx: PublicPlanContext) -> list[PlannedUnit]:
    if not await repository.has_rates(ctx.session, "frankfurter"):
        return [PlannedUnit(HISTORY_UNIT, priority=Priority.BACKFILL)]
    return [PlannedUnit(RECENT_UNIT, refresh_after=ctx.cadence)]


def rates_url(settings: Settings, start: dt.date) -> str:
    """The series from ``start`` to the server's today (``to`` left to the server)."""
    quotes = ",".join(sorted(ECB_GAPS))
    return (
        f"{settings.fx_frankfurter_url}/v2/rates?base={EUR}&quotes={quotes}"
        f"&from={start.isoformat()}&expand=providers"
    )


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise FrankfurterAnswerError(f"{what} is not a number: {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise FrankfurterAnswerError(f"{what} is not a number: {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise FrankfurterAnswerError(f"{what} is not positive: {value!r}")
    return number


def parse(content: bytes) -> list[dict[str, Any]]:
    """Rows to store (day, base, quote, rate, provider) from a ``/v2/rates`` answer."""
    try:
        data = json.loads(content, parse_float=Decimal)
    except ValueError as error:
        raise FrankfurterAnswerError(f"not JSON: {error}") from None
    if not isinstance(data, list):
        raise FrankfurterAnswerError("a /v2/rates answer is a JSON array")
    rows: list[dict[str, Any]] = []
    for item in data:
        if not isinstance(item, dict):
            raise FrankfurterAnswerError("a /v2/rates row is a JSON object")
        base, quote = item.get("base"), item.get("quote")
        if base != EUR or not isinstance(quote, str) or quote not in ECB_GAPS:
            continue  # the identity row, or a currency Orchard did not ask for
        try:
            day = dt.date.fromisoformat(str(item.get("date")))
        except ValueError:
            raise FrankfurterAnswerError(f"bad date in {item!r}") from None
        providers = item.get("providers")
        keys = [str(p.get("key")) for p in providers or [] if isinstance(p, dict)]
        provider = "+".join(sorted(keys))[:32] if keys else "peg"
        rate = _decimal(item.get("rate"), f"{quote} rate")
        rows.append({"day": day, "base": EUR, "quote": quote, "rate": rate, "provider": provider})
    # One row per (day, quote, provider): the same carried-forward observation can repeat.
    unique = {(r["day"], r["quote"], r["provider"]): r for r in rows}
    return list(unique.values())


async def run(settings: Settings, ctx: PublicUnitContext) -> UnitResult:
    if ctx.unit_key not in (HISTORY_UNIT, RECENT_UNIT):
        raise PermanentUnitError(f"not an fx_frankfurter unit key: {ctx.unit_key}")
    days = settings.fx_frankfurter_backfill_days if ctx.unit_key == HISTORY_UNIT else RECENT_DAYS
    # Anchored on the newest ECB day stored (the rates' own clock), else today.
    end = await repository.newest_day(ctx.session, "ecb") or ctx.now.date()
    url = rates_url(settings, end - dt.timedelta(days=days))
    response = await ctx.http.get(url, timeout=settings.fx_http_timeout_seconds)
    if response.status_code == 404:
        rows: list[dict[str, Any]] = []  # "not found": no rates in the window
    else:
        response.raise_for_status()
        rows = parse(response.content)
    inserted, revisions = await repository.upsert_public(
        ctx.session, source="frankfurter", rows=rows, source_url=url, now=ctx.now
    )
    for revision in revisions:
        ctx.log.warning(
            "Frankfurter rate revised",
            extra={
                "day": revision.day.isoformat(),
                "currency": revision.quote,
                "previous_rate": str(revision.previous),
                "rate": str(revision.rate),
            },
        )
    return UnitResult(
        rows=inserted + len(revisions),
        notes={"inserted": inserted, "revised": len(revisions), "answer_rows": len(rows)},
    )
