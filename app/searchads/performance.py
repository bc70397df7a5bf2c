"""The Search Ads performance report: sums per period and group in keyset order, derived
measures from the sums (never averaged averages), and money converted into one reporting
currency day by day (``app.fx.convert``)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.fx import convert, kept
from app.kit import cursors
from app.kit.money import amount_text
from app.kit.pagination import Kind as cursors_kind
from app.kit.pagination import PageRequest
from app.searchads import read_repository
from app.searchads.reads import check_range, per, ratio

#: A response document exactly as the API sends it, shaped like its pydantic schema (which
#: documents it): a converted page holds thousands of money objects, each with its rates, and
#: validating them into models again cost more than the conversion. The tests validate every
#: response against the schema.
Payload = dict[str, Any]


def measures(row: dict[str, Any]) -> dict[str, Any]:
    spend: Decimal = row["spend"] or Decimal(0)
    currency: str = row["currency"]
    taps, installs, impressions = int(row["taps"]), int(row["installs"]), int(row["impressions"])
    return {
        "currency": currency,
        "spend": {"amount": amount_text(spend, currency), "currency": currency},
        "impressions": impressions,
        "taps": taps,
        "tap_installs": int(row["tap_installs"]),
        "view_installs": int(row["view_installs"]),
        "installs": installs,
        "new_downloads": int(row["new_downloads"]),
        "redownloads": int(row["redownloads"]),
        "ttr": ratio(taps, impressions),
        "conversion_rate": ratio(installs, taps),
        "cpt": _per_dict(spend, taps, currency),
        "cpa": _per_dict(spend, installs, currency),
    }


def _per_dict(spend: Decimal, count: int, currency: str) -> dict[str, Any] | None:
    money = per(spend, count, currency)
    return None if money is None else money.model_dump()


def _converted_measures(
    book: convert.RateBook, document: dict[str, Any], daily: list[convert.Triple]
) -> None:
    """Convert a row's money in place: `spend` gains `converted` (each report date at its
    own rate, then summed), the row gains `spend_total_converted` (with what had no rate),
    and `cpt`/`cpa` gain `converted` from the exact converted spend ÷ the summed counts
    when the whole spend converted."""
    document["spend_total_converted"] = convert.convert_measure(book, [document["spend"]], daily)
    exact, complete = convert.exact_sum(book, daily)
    spent = document["spend"]["converted"]
    for name, count in (("cpt", document["taps"]), ("cpa", document["installs"])):
        per = document[name]
        if per is not None:
            per["converted"] = None
            if spent is not None and complete:
                per["converted"] = {**spent, "amount": book.present(exact / count)}


def _row_daily(row: dict[str, Any], granularity: str) -> list[convert.Triple]:
    if "days" in row:
        currency = row["currency"]
        pairs = zip(row["days"], row["day_spend"], strict=True)
        return [(day, currency, spend) for day, spend in pairs]
    assert granularity == "day"
    return [(row["period_start"], row["currency"], row["spend"] or Decimal(0))]


_DIMENSION_KEYS = (
    "ad_account_id",
    "campaign_id",
    "campaign_name",
    "ad_group_id",
    "keyword_id",
    "keyword",
    "search_term",
    "adam_id",
    "app_id",
    "country",
)


def _parser(kind: str) -> cursors_kind:
    if kind == "int":
        return cursors.integer
    if kind == "text":
        return cursors.TEXT
    if kind == "uuid":
        return cursors.UUID
    return cursors.day


def _shape(granularity: str, group_by: list[str]) -> str:
    """What a cursor was made for: a cursor of another query is refused, not misread."""
    return f"search-ads:{granularity}:{','.join(group_by)}"


def _after(paging: PageRequest, granularity: str, group_by: list[str]) -> list[Any] | None:
    shape = _shape(granularity, group_by)

    def same_shape(value: Any) -> str:
        if value != shape:
            raise ValueError("a cursor of another query")
        return shape

    kinds: list[cursors_kind] = [same_shape]
    for key in read_repository.keyset(group_by):
        kinds += [cursors.boolean, _parser(key.kind)]
    after = paging.after(*kinds)
    return None if after is None else list(after[1:])


def _position(row: dict[str, Any], granularity: str, group_by: list[str]) -> list[Any]:
    out: list[Any] = [_shape(granularity, group_by)]
    for key in read_repository.keyset(group_by):
        value = row[key.alias]
        out.append(value is not None)
        if value is None:
            value = _SENTINELS[key.kind]
        out.append(value if isinstance(value, int | str) else str(value))
    return out


_SENTINELS: dict[str, Any] = {
    "int": 0,
    "text": "",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "date": "1970-01-01",
}


async def performance(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    group_by: list[str],
    ad_account_ids: list[int] | None,
    campaign_ids: list[int] | None,
    app_ids: list[uuid.UUID] | None,
    paging: PageRequest,
    currency: str | None = None,
    default_currency: str | None,
    max_rate_age_days: int = 7,
) -> Payload:
    """The `SearchAdsPerformanceReport` document as plain data (see ``Payload``)."""
    check_range(start, end)
    after = _after(paging, granularity, group_by)
    target = convert.target_currency(currency, default_currency)
    rows = await read_repository.performance(
        session,
        workspace_id,
        start=start,
        end=end,
        granularity=granularity,
        group_by=group_by,
        ad_account_ids=ad_account_ids,
        campaign_ids=campaign_ids,
        app_ids=app_ids,
        after=after,
        limit=paging.fetch,
        by_day=target is not None and granularity != "day",
    )
    rows, next_cursor = paging.split(rows, lambda r: _position(r, granularity, group_by))
    # The missing days, and the span's rates read along (a kept book: only their version
    # while it is current).
    read = kept.book_read(
        workspace_id, target=target, start=start, end=end, max_age_days=max_rate_age_days
    )
    level = read_repository.level_for(group_by)
    value, missing = await read_repository.missing_days(
        session, workspace_id, level, start, end, ad_account_ids, read.also
    )
    book = read.book(value)
    items = []
    for row in rows:
        document = {
            "period_start": row["period_start"],
            **{k: row.get(k) for k in _DIMENSION_KEYS},
            **measures(row),
        }
        if book is not None:
            _converted_measures(book, document, _row_daily(row, granularity))
        items.append(document)
    return {
        "currency": target,
        "items": items,
        "next_cursor": next_cursor,
        "incomplete_dates": missing,
    }
